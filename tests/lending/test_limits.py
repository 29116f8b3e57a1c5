import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.lending import limits, services
from credo.lending.errors import InvalidLoan, InvalidState
from credo.lending.models import Loan
from tests.lending.conftest import VALUE_DATE

pytestmark = pytest.mark.django_db


def test_drawdowns_use_the_limit_and_freeze_blocks(borrower, owner, finance, make_loan):
    limits.limit_set(customer=borrower, amount=Money("200000"), actor=finance, reason="授信审批")
    loan = make_loan(principal="150000")
    assert limits.limit_status(borrower).available == 5_000_000
    with pytest.raises(InvalidLoan, match="可用授信额度"):
        make_loan(principal="60000")
    services.loan_disburse(loan=loan, actor=finance, value_date=VALUE_DATE)
    first = loan.installments.get(period=1)
    services.repayment_post(
        loan=loan,
        amount=Money.from_fen(first.principal_due.fen + first.interest_due.fen),
        received_on=first.due_date,
        actor=finance,
    )
    assert limits.limit_status(borrower).used == 15_000_000 - first.principal_due.fen
    limits.limit_freeze(customer=borrower, frozen=True, actor=finance, reason="涉诉")
    with pytest.raises(InvalidState, match="冻结"):
        make_loan(principal="10000")
    assert limits.limit_status(borrower).available == 0
    limits.limit_freeze(customer=borrower, frozen=False, actor=finance, reason="已解除")
    assert Loan.objects.count() == 1
    assert AuditEntry.objects.filter(action__startswith="credit_limit.").count() == 3
    assert borrower.events.filter(kind="decision").count() == 3


def test_reason_required(borrower, finance):
    with pytest.raises(InvalidLoan, match="原因"):
        limits.limit_set(customer=borrower, amount=Money("1"), actor=finance, reason=" ")


def test_limit_page(client, owner, manager_role, borrower):
    manager_role.permissions.add(
        Permission.objects.get(codename="manage_limits"),
        Permission.objects.get(codename="view_customer"),
    )
    client.force_login(owner)
    url = reverse("lending:credit_limit", args=[borrower.pk])
    resp = client.post(url, {"amount": "300000", "reason": "年度授信"})
    assert resp.status_code == 302
    body = client.get(url).content.decode()
    assert "300,000.00" in body and "年度授信" in body
    client.post(
        reverse("lending:credit_limit_freeze", args=[borrower.pk]),
        {"action": "freeze", "reason": "预警"},
    )
    assert "已冻结" in client.get(url).content.decode()
    detail = client.get(reverse("customers:detail", args=[borrower.pk])).content.decode()
    assert "（已冻结）" in detail
