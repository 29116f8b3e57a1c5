"""集中度 at submission (a warning with the admission result) and at approval (a refusal with
the reason; the task stays open), through the real origination and approvals services."""

import pytest

from credo.approvals.errors import ApprovalError
from credo.approvals.selectors import instance_for, open_task_of
from credo.approvals.services import approval_act
from credo.core import clock
from credo.core.money import Money
from credo.customers.models import Relation
from credo.lending.exposure import selectors
from credo.lending.exposure import services as exposure
from credo.origination import services
from tests.origination import conftest as _origination

# the origination fixtures (their conftest is not visible from tests/lending)
approvers = _origination.approvers
complete = _origination.complete
customer = _origination.customer
document_root = _origination.document_root
make_app = _origination.make_app
product_version = _origination.product_version
staff_perms = _origination.staff_perms
make_customer = _origination.make_customer

pytestmark = pytest.mark.django_db


def _act(user, app, **kw):
    task = open_task_of(instance_for(app), user)
    return approval_act(task=task, actor=user, action="approve", **kw)


@pytest.fixture
def net(owner):
    return exposure.net_assets_set(
        effective_date=clock.today(), amount=Money("5000000"), actor=owner, note="月末"
    )


def test_submission_warns_and_approval_refuses_over_the_group_limit(
    make_app, owner, complete, approvers, customer, net
):
    lead, risk = approvers
    spouse_co = make_customer(owner, 2)
    Relation.objects.create(from_customer=spouse_co, to_customer=customer, kind="affiliate")
    # an approved application of the affiliate not yet booked is a commitment of the group
    other = services.application_submit(
        application=complete(make_app(amount="300000", cust=spouse_co)), actor=owner
    )
    _act(lead, other)
    _act(risk, other)
    other.refresh_from_db()
    assert other.status == "contract_sent"
    assert selectors.exposure_of([spouse_co.pk]) == {spouse_co.pk: 30_000_000}

    # 300,000 + 500,000 = 800,000 = 16 % of 5,000,000 > 15 %; single 10 % (500,000) is fine
    app = services.application_submit(application=complete(make_app(amount="500000")), actor=owner)
    assert app.status == "in_approval"
    warning = app.admission_reasons[-1]
    assert warning["code"] == "concentration"
    assert warning["reason"].startswith("集中度预警：借款人及其关联方（集团：")
    assert "授信敞口 800,000.00 元，占净资产 16.00%，超过 15% 上限" in warning["reason"]

    _act(lead, app)
    with pytest.raises(ApprovalError) as err:
        _act(risk, app)
    assert err.value.message.startswith("超过集中度限额，不能批准该申请：借款人及其关联方（集团：")
    app.refresh_from_db()
    assert app.status == "in_approval"
    assert open_task_of(instance_for(app), risk) is not None  # the task stays open
    # a lower amount fits: 300,000 + 450,000 = 750,000 = 15 %
    _act(risk, app, amount=45_000_000)
    app.refresh_from_db()
    assert app.status == "contract_sent" and app.approved_amount.fen == 45_000_000


def test_no_net_assets_no_warning_no_refusal(make_app, owner, complete, approvers):
    lead, risk = approvers
    app = services.application_submit(application=complete(make_app(amount="300000")), actor=owner)
    assert not any(r.get("code") == "concentration" for r in app.admission_reasons)
    _act(lead, app)
    _act(risk, app)
    app.refresh_from_db()
    assert app.status == "contract_sent"
