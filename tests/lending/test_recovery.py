"""已核销贷款收回: entries, off-balance figures, idempotency, guards, page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from credo.core.audit.models import AuditEntry
from credo.lending import ledger, services
from credo.lending.errors import IdempotencyConflict, InvalidLoan, InvalidState, NotPermitted
from credo.lending.models import JournalEntry, Loan, OffBalance, Recovery
from credo.lending.services.recovery import off_balance_for, recovery_post
from tests.lending.conftest import VALUE_DATE

pytestmark = pytest.mark.django_db
D = dt.date


@pytest.fixture
def written_off(make_loan, finance):
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    Loan.objects.filter(pk=loan.pk).update(classification="loss", status="overdue")
    loan = Loan.objects.get(pk=loan.pk)
    services.loan_write_off(loan=loan, actor=finance, reason="破产清算")
    return Loan.objects.get(pk=loan.pk)


def test_write_off_registers_off_balance_figures(written_off):
    off = OffBalance.objects.get(loan=written_off)
    assert off.principal.fen == 120_000_00
    assert off.interest.fen == sum(
        i.interest_due.fen for i in written_off.installments.filter(status="written_off")
    )
    assert (
        off.written_off_on
        == JournalEntry.objects.get(loan=written_off, kind="write_off").business_date
    )


def test_recovery_posts_its_own_entry_and_reduces_off_balance(written_off, finance):
    on = OffBalance.objects.get(loan=written_off).written_off_on
    r = recovery_post(
        loan=written_off,
        amount=services.Money("1000.00"),
        received_on=on,
        actor=finance,
        reference="法院执行款",
        idempotency_key="rec-1",
    )
    lines = {x.account.code: (x.debit.fen, x.credit.fen) for x in r.entry.lines.all()}
    # principal recovered restores the loan-loss reserve (issue 20)
    assert lines == {"cash": (100_000, 0), "loan_loss_reserve": (0, 100_000)}
    assert r.entry.kind == JournalEntry.Kind.RECOVERY
    assert r.allocation == {"principal": 100_000, "interest": 0, "fee": 0, "penalty": 0}
    off = OffBalance.objects.get(loan=written_off)
    assert off.recovered_principal.fen == 100_000 and off.remaining("principal") == 119_000_00
    # idempotent: the same key returns the first recovery; another amount is a conflict
    again = recovery_post(
        loan=written_off,
        amount=services.Money("1000.00"),
        received_on=on,
        actor=finance,
        idempotency_key="rec-1",
    )
    assert again.pk == r.pk and Recovery.objects.count() == 1
    with pytest.raises(IdempotencyConflict):
        recovery_post(
            loan=written_off,
            amount=services.Money("2.00"),
            received_on=on,
            actor=finance,
            idempotency_key="rec-1",
        )
    # the loan stays written off; the principal ledger is untouched (still 0)
    written_off.refresh_from_db()
    assert written_off.status == "written_off"
    assert ledger.loan_account_balance(written_off, "loan_principal") == 0
    assert ledger.verify().ok, ledger.verify().problems
    assert AuditEntry.objects.filter(action="loan.recovery").exists()
    assert written_off.customer.events.filter(title__contains="收回").exists()


def test_recovery_beyond_principal_goes_to_interest_and_over_total_is_refused(written_off, finance):
    off = OffBalance.objects.get(loan=written_off)
    total = sum(off.remaining(c) for c in ("principal", "interest", "fee", "penalty"))
    r = recovery_post(
        loan=written_off,
        amount=services.Money.from_fen(120_000_00 + 500),
        received_on=off.written_off_on,
        actor=finance,
    )
    assert r.allocation["principal"] == 120_000_00 and r.allocation["interest"] == 500
    with pytest.raises(InvalidLoan, match="超过表外余额"):
        recovery_post(
            loan=written_off,
            amount=services.Money.from_fen(total),
            received_on=off.written_off_on,
            actor=finance,
        )
    assert Recovery.objects.count() == 1


def test_recovery_guards(written_off, finance, make_loan, owner):
    open_loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    with pytest.raises(InvalidState):
        recovery_post(
            loan=open_loan, amount=services.Money("1"), received_on=VALUE_DATE, actor=finance
        )
    with pytest.raises(NotPermitted):
        recovery_post(
            loan=written_off, amount=services.Money("1"), received_on=D(2026, 12, 1), actor=owner
        )
    with pytest.raises(InvalidLoan):
        recovery_post(
            loan=written_off, amount=services.Money("1"), received_on=D(2020, 1, 1), actor=finance
        )
    assert not Recovery.objects.exists()


def test_off_balance_rebuilt_for_a_loan_written_off_before_recoveries_existed(written_off):
    OffBalance.objects.filter(loan=written_off).delete()
    off = off_balance_for(written_off)
    assert off is not None and off.principal.fen == 120_000_00 and off.interest.fen > 0


def test_recovery_page(client, written_off, finance):
    finance.roles.first().permissions.add(
        *__import__(
            "django.contrib.auth.models", fromlist=["Permission"]
        ).Permission.objects.filter(codename="view_loan")
    )
    client.force_login(finance)
    panel = client.get(reverse("lending:restructure_panel", args=[written_off.pk]))
    assert panel.status_code == 200 and "登记收回" in panel.content.decode()
    url = reverse("lending:recovery", args=[written_off.pk])
    page = client.get(url)
    assert page.status_code == 200
    off = OffBalance.objects.get(loan=written_off)
    response = client.post(
        url,
        {
            "amount": "88.00",
            "received_on": off.written_off_on.isoformat(),
            "reference": "收回",
            "idempotency_key": "page-1",
        },
    )
    assert response.status_code == 302
    assert Recovery.objects.get().amount.fen == 8800
