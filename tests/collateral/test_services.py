import datetime as dt
from decimal import Decimal

import pytest

from credo.collateral import jobs, selectors, services
from credo.collateral.errors import InvalidCollateral, InvalidState, NotAllowed
from credo.collateral.models import Collateral, Guarantee, LtvLimit, ReleaseRequest
from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.core.todo.models import Todo
from tests.collateral.conftest import TODAY, paid_off

pytestmark = pytest.mark.django_db


def test_create_registered_with_valuation_history(house, owner):
    c = house(value="500000")
    assert c.status == Collateral.Status.REGISTERED
    assert c.number.startswith("C20260601")
    assert c.current_value == Money("500000")
    # an older valuation entered later does not replace the current value
    services.valuation_add(
        collateral=c,
        actor=owner,
        valued_on=dt.date(2025, 1, 1),
        value=Money("450000"),
        appraiser="旧评估",
        method="cost",
    )
    c.refresh_from_db()
    assert c.current_value == Money("500000") and c.valued_on == dt.date(2026, 5, 20)
    # a newer one does
    services.valuation_add(
        collateral=c,
        actor=owner,
        valued_on=dt.date(2026, 5, 31),
        value=Money("480000.50"),
        appraiser="复评",
        method="market",
    )
    c.refresh_from_db()
    assert c.current_value.fen == 48_000_050
    assert [v.value.fen for v in c.valuations.all()] == [48_000_050, 50_000_000, 45_000_000]
    actions = set(AuditEntry.objects.filter(object_id=str(c.pk)).values_list("action", flat=True))
    assert {"collateral.create", "collateral.valuation_add"} <= actions


def test_draft_then_register(house, owner):
    c = house(value=None, registered=False)
    assert c.status == Collateral.Status.DRAFT
    with pytest.raises(InvalidCollateral):
        services.collateral_register(
            collateral=c, actor=owner, registration_number="", registered_on=TODAY
        )
    services.collateral_register(
        collateral=c,
        actor=owner,
        registration_number="晋(2026)0002",
        registered_on=TODAY,
        expires_on=dt.date(2028, 1, 1),
    )
    c.refresh_from_db()
    assert c.status == "registered" and c.registration_number == "晋(2026)0002"
    assert AuditEntry.objects.filter(action="collateral.register", object_id=str(c.pk)).exists()


def test_refusals_leave_nothing(owner, outsider, colleague, customer, manage_perms):
    with pytest.raises(NotAllowed):  # outsider: no permission and out of scope
        services.collateral_create(
            actor=outsider, owner=customer, kind="mortgage", category="other", description="x"
        )
    with pytest.raises(NotAllowed):  # same role, but the customer is not in the colleague's scope
        services.collateral_create(
            actor=colleague, owner=customer, kind="mortgage", category="other", description="x"
        )
    with pytest.raises(InvalidCollateral):
        services.collateral_create(
            actor=owner,
            owner=customer,
            kind="mortgage",
            category="real_estate",
            description="房产",
            registered_on=dt.date(2026, 5, 1),
            expires_on=dt.date(2026, 4, 1),
        )
    assert Collateral.objects.count() == 0


def test_ltv_on_application_with_limit(house, make_app, owner, product_version):
    app = make_app(amount="300000")
    c = house(value="500000", application_id=app.pk)
    sec = selectors.application_security(app)
    assert sec.value_fen == 50_000_000
    assert sec.ltv == Decimal("60.00")
    assert sec.limit == Decimal("70") and not sec.over_limit
    # the product's own maximum
    LtvLimit.objects.create(product=product_version.product, max_ltv=Decimal("50"))
    sec = selectors.application_security(app)
    assert sec.limit == Decimal("50") and sec.over_limit
    # a lower revaluation raises the LTV
    services.valuation_add(
        collateral=c,
        actor=owner,
        valued_on=TODAY,
        value=Money("400000"),
        appraiser="复评",
        method="market",
    )
    assert selectors.application_security(app).ltv == Decimal("75.00")


def test_env_limit(monkeypatch, make_app, house):
    monkeypatch.setenv("CREDO_COLLATERAL_MAX_LTV", "55")
    app = make_app(amount="300000")
    house(value="500000", application_id=app.pk)
    sec = selectors.application_security(app)
    assert sec.limit == Decimal("55") and sec.over_limit


def test_loan_sees_application_links(house, make_app, loan):
    from credo.lending.models import Loan

    app = make_app(amount="300000")
    type(app).objects.filter(pk=app.pk).update(loan=loan)
    house(value="600000", application_id=app.pk)
    loan = Loan.objects.get(pk=loan.pk)
    sec = selectors.loan_security(loan)
    assert sec.amount_fen == 30_000_000 and sec.ltv == Decimal("50.00")


def test_release_needs_a_second_person(house, owner, checker, loan):
    c = house(loan=loan)
    req = services.release_request(actor=owner, reason="贷款已结清", collateral=c)
    with pytest.raises(InvalidState):  # one pending request per collateral
        services.release_request(actor=owner, reason="again", collateral=c)
    with pytest.raises(NotAllowed):  # the requester has no approve permission
        services.release_approve(request=req, actor=owner)
    # the checker opening their own request cannot approve it
    c2 = house(loan=loan)
    own = services.release_request(actor=checker, reason="自提", collateral=c2)
    with pytest.raises(NotAllowed):
        services.release_approve(request=own, actor=checker)
    own.refresh_from_db()
    assert own.status == "pending"
    services.release_approve(request=req, actor=checker, note="同意")
    req.refresh_from_db()
    c.refresh_from_db()
    assert req.status == ReleaseRequest.Status.APPROVED and req.decided_by == checker
    assert c.status == Collateral.Status.RELEASED and c.released_on == TODAY
    todo = Todo.objects.get(dedupe_key=f"collateral-release:{req.pk}")
    assert todo.user == loan.owner and todo.source == "collateral"
    assert AuditEntry.objects.filter(action="collateral.release", object_id=str(c.pk)).exists()
    with pytest.raises(InvalidState):
        services.release_approve(request=req, actor=checker)


def test_reject_needs_reason(house, owner, checker, loan):
    c = house(loan=loan)
    req = services.release_request(actor=owner, reason="r", collateral=c)
    with pytest.raises(InvalidCollateral):
        services.release_reject(request=req, actor=checker, note="")
    services.release_reject(request=req, actor=checker, note="尚有其他授信")
    c.refresh_from_db()
    assert c.status == "registered"


def test_payoff_job_opens_requests_once(house, owner, checker, loan, customer, product_version):
    from credo.lending import services as lending

    c = house(loan=loan)
    g = services.guarantee_create(
        actor=owner,
        guarantor=customer,
        contract_number="BZ-2026-001",
        kind="joint",
        amount=Money("300000"),
        loan=loan,
        period_start=dt.date(2026, 5, 1),
        period_end=dt.date(2030, 5, 1),
    )
    # another collateral also securing an open loan stays
    other = lending.loan_create(
        customer=customer,
        product_version=product_version,
        principal=Money("100000"),
        annual_rate=Decimal("10"),
        months=12,
        actor=owner,
    )
    shared = house(loan=loan)
    services.collateral_link(collateral=shared, actor=owner, loan=other)
    assert jobs.open_release_requests(TODAY) == {"collateral_requests": 0, "guarantee_requests": 0}
    paid_off(loan)
    assert jobs.open_release_requests(TODAY) == {"collateral_requests": 1, "guarantee_requests": 1}
    assert jobs.open_release_requests(TODAY) == {"collateral_requests": 0, "guarantee_requests": 0}
    req = ReleaseRequest.objects.get(collateral=c)
    assert req.requested_by == loan.owner and req.loan_id == loan.pk
    assert not ReleaseRequest.objects.filter(collateral=shared).exists()
    services.release_approve(request=ReleaseRequest.objects.get(guarantee=g), actor=checker)
    g.refresh_from_db()
    assert g.status == Guarantee.Status.RELEASED
    # a rejected request is not re-opened by the next run
    services.release_reject(request=req, actor=checker, note="暂缓")
    assert jobs.open_release_requests(TODAY)["collateral_requests"] == 0


def test_expiry_alerts_idempotent(house, owner, loan, customer):
    from credo.notify.models import Message

    soon = house(loan=loan, expires_on=TODAY + dt.timedelta(days=20))
    house(loan=loan, expires_on=TODAY + dt.timedelta(days=45))  # outside 30 days
    services.guarantee_create(
        actor=owner,
        guarantor=customer,
        contract_number="BZ-2026-002",
        kind="general",
        amount=Money("100000"),
        loan=loan,
        period_start=dt.date(2025, 7, 1),
        period_end=TODAY + dt.timedelta(days=5),
    )
    first = jobs.expiry_alerts(TODAY)
    assert first["registrations"] == 1 and first["guarantees"] == 1
    assert first["messages"] == 2
    todos = Todo.objects.filter(source="collateral")
    assert todos.count() == 2 and {t.user_id for t in todos} == {loan.owner_id}
    assert soon.number in todos.get(due_date=soon.expires_on).title
    again = jobs.expiry_alerts(TODAY)
    next_day = jobs.expiry_alerts(TODAY + dt.timedelta(days=1))
    assert again == next_day == {"registrations": 0, "guarantees": 0, "messages": 0}
    assert Todo.objects.filter(source="collateral").count() == 2
    assert Message.objects.filter(dedupe_key__startswith="collateral-expiry:").count() == 2


def test_expiry_days_configurable(monkeypatch, house, loan):
    house(loan=loan, expires_on=TODAY + dt.timedelta(days=45))
    monkeypatch.setenv("CREDO_COLLATERAL_EXPIRY_DAYS", "60")
    assert jobs.expiry_alerts(TODAY)["registrations"] == 1


def test_guarantee_validation(owner, customer, loan):
    kw = dict(actor=owner, guarantor=customer, kind="joint", amount=Money("1000"), loan=loan)
    with pytest.raises(InvalidCollateral):
        services.guarantee_create(contract_number="", **kw)
    with pytest.raises(InvalidCollateral):
        services.guarantee_create(
            contract_number="A1",
            period_start=dt.date(2026, 2, 1),
            period_end=dt.date(2026, 1, 1),
            **kw,
        )
    services.guarantee_create(contract_number="A1", **kw)
    with pytest.raises(InvalidCollateral):
        services.guarantee_create(contract_number="A1", **kw)
    assert Guarantee.objects.count() == 1


def test_scoped_lists(house, owner, outsider, checker):
    c = house()
    assert list(selectors.collateral_for(owner)) == [c]
    assert list(selectors.collateral_for(outsider)) == []
    assert list(selectors.collateral_for(checker)) == [c]
