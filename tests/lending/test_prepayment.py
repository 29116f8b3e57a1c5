import datetime as dt
from decimal import Decimal

import pytest

from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.lending import ledger, services
from credo.lending.errors import IdempotencyConflict, InvalidLoan, InvalidState
from credo.lending.models import Loan, Posting
from credo.lending.prepay import prepay, prepayment_quote
from tests.lending.conftest import VALUE_DATE

pytestmark = pytest.mark.django_db
ON = dt.date(2026, 3, 1)  # 1st installment (2026-02-15) due and unpaid, 14 days into period 2


def _fen(text: str) -> int:
    return Money(text).fen


@pytest.fixture
def loan(make_loan, finance):
    return services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)


def test_quote_payoff_figures(loan):
    first = loan.installments.get(period=1)
    q = prepayment_quote(loan=loan, on_date=ON)
    due = first.principal_due.fen + first.interest_due.fen
    assert _fen(q["due_total"]) == due
    future = 12_000_000 - first.principal_due.fen
    assert _fen(q["outstanding_principal"]) == future
    assert q["interest_from"] == "2026-02-15" and q["interest_days"] == 14
    accrued = (Decimal(future) * Decimal("0.12") * 14 / 360).quantize(Decimal(1), "ROUND_HALF_UP")
    assert _fen(q["accrued_interest"]) == int(accrued)
    assert _fen(q["payoff_amount"]) == due + int(accrued) + future
    assert "schedules" not in q


def test_quote_partial_both_modes(loan):
    q0 = prepayment_quote(loan=loan, on_date=ON)
    amount = Money.from_fen(_fen(q0["due_total"]) + 5_000_000)
    q = prepayment_quote(loan=loan, on_date=ON, amount=amount)
    principal, interest = _fen(q["prepay_principal"]), _fen(q["prepay_interest"])
    assert principal + interest == 5_000_000 and 0 < interest < 30_000
    reduce_, shorten = q["schedules"]["reduce_payment"], q["schedules"]["shorten_term"]
    assert reduce_["months"] == 11
    assert shorten["months"] < 11
    # reduce: lower installment; shorten: about the same installment as before
    old = loan.installments.get(period=2)
    old_payment = old.principal_due.fen + old.interest_due.fen
    assert _fen(reduce_["first_installment"]["payment"]) < old_payment
    assert abs(_fen(shorten["first_installment"]["payment"]) - old_payment) <= 1
    assert reduce_["first_installment"]["due_date"] == "2026-03-15"
    for s in (reduce_, shorten):
        assert sum(_fen(i["principal"]) for i in s["installments"]) == _fen(
            q["remaining_principal"]
        )


def test_quote_bad_amounts(loan):
    q = prepayment_quote(loan=loan, on_date=ON)
    with pytest.raises(InvalidLoan, match="普通还款"):
        prepayment_quote(loan=loan, on_date=ON, amount=Money(q["due_total"]))
    with pytest.raises(InvalidLoan, match="结清金额"):
        prepayment_quote(loan=loan, on_date=ON, amount=Money.from_fen(_fen(q["payoff_amount"]) + 1))
    with pytest.raises(InvalidLoan):
        prepayment_quote(loan=loan, on_date=dt.date(2099, 1, 1))


@pytest.mark.parametrize("mode", ["reduce_payment", "shorten_term"])
def test_partial_prepay_reschedules(loan, finance, mode):
    q0 = prepayment_quote(loan=loan, on_date=ON)
    amount = Money.from_fen(_fen(q0["due_total"]) + 5_000_000)
    quote = prepayment_quote(loan=loan, on_date=ON, amount=amount)
    result = prepay(loan=loan, amount=amount, on_date=ON, mode=mode, actor=finance)
    loan.refresh_from_db()
    assert result.due_posting is not None and result.principal == _fen(quote["prepay_principal"])
    assert loan.outstanding_principal.fen == _fen(quote["remaining_principal"])
    rows = list(loan.installments.order_by("period"))
    assert [r.period for r in rows] == list(range(1, len(rows) + 1))
    assert rows[0].status == "paid" and rows[1].status == "paid" and rows[1].due_date == ON
    assert sum(r.principal_due.fen for r in rows) == 12_000_000
    new = rows[2:]
    assert len(new) == quote["schedules"][mode]["months"]
    first = quote["schedules"][mode]["first_installment"]
    assert new[0].principal_due.fen == _fen(first["principal"])
    assert new[0].interest_due.fen == _fen(first["interest"])
    assert loan.maturity_date == new[-1].due_date
    assert loan.status == "active"
    assert ledger.verify().ok, ledger.verify().problems
    assert AuditEntry.objects.filter(action="loan.prepay").exists()
    assert loan.customer.events.filter(title__contains="提前还款").exists()


def test_full_payoff_closes_loan(loan, finance):
    q = prepayment_quote(loan=loan, on_date=ON)
    result = prepay(
        loan=loan,
        amount=Money(q["payoff_amount"]),
        on_date=ON,
        mode="reduce_payment",
        actor=finance,
    )
    loan.refresh_from_db()
    assert result.paid_off and loan.status == Loan.Status.PAID_OFF
    assert loan.outstanding_principal.fen == 0 and loan.maturity_date == ON
    assert result.interest == _fen(q["accrued_interest"])
    assert not loan.installments.exclude(status="paid").exists()
    assert ledger.verify().ok
    with pytest.raises(InvalidState):
        prepayment_quote(loan=loan, on_date=ON)


def test_prepay_idempotent(loan, finance):
    q = prepayment_quote(loan=loan, on_date=ON)
    amount = Money.from_fen(_fen(q["due_total"]) + 1_000_000)
    a = prepay(
        loan=loan,
        amount=amount,
        on_date=ON,
        mode="shorten_term",
        actor=finance,
        idempotency_key="pp-1",
    )
    b = prepay(
        loan=loan,
        amount=amount,
        on_date=ON,
        mode="shorten_term",
        actor=finance,
        idempotency_key="pp-1",
    )
    assert a.posting.pk == b.posting.pk and a.due_posting.pk == b.due_posting.pk
    assert Posting.objects.count() == 2
    with pytest.raises(IdempotencyConflict):
        prepay(
            loan=loan,
            amount=Money("100"),
            on_date=ON,
            mode="shorten_term",
            actor=finance,
            idempotency_key="pp-1",
        )
    assert ledger.verify().ok


def test_prepay_before_first_due_date(loan, finance):
    on = dt.date(2026, 1, 25)
    q = prepayment_quote(loan=loan, on_date=on)
    assert q["due_total"] == "0.00" and q["interest_days"] == 10
    prepay(loan=loan, amount=Money("20000"), on_date=on, mode="reduce_payment", actor=finance)
    loan.refresh_from_db()
    rows = list(loan.installments.order_by("period"))
    assert rows[0].due_date == on and rows[0].status == "paid"
    assert rows[1].due_date == dt.date(2026, 2, 15) and len(rows) == 13
    assert ledger.verify().ok


def test_bullet_keeps_maturity(make_loan, finance):
    pending = make_loan()
    Loan.objects.filter(pk=pending.pk).update(method="bullet")
    loan = services.loan_disburse(loan=pending, actor=finance, value_date=VALUE_DATE)
    assert loan.maturity_date == dt.date(2027, 1, 15)
    q = prepayment_quote(loan=loan, on_date=ON, amount=Money("50000"))
    sched = q["schedules"]["reduce_payment"]
    assert sched["months"] == 1 and sched["first_installment"]["due_date"] == "2027-01-15"
    prepay(loan=loan, amount=Money("50000"), on_date=ON, mode="reduce_payment", actor=finance)
    loan.refresh_from_db()
    assert loan.maturity_date == dt.date(2027, 1, 15)
    assert ledger.verify().ok


def test_overdue_with_penalty_paid_first(loan, finance):
    from credo.lending.models import Installment

    Installment.objects.filter(loan=loan, period=1).update(penalty_due=1234, status="overdue")
    Loan.objects.filter(pk=loan.pk).update(status="overdue", dpd=14)
    loan.refresh_from_db()
    q = prepayment_quote(loan=loan, on_date=ON)
    assert q["due"]["penalty"] == "12.34"
    result = prepay(
        loan=loan,
        amount=Money(q["payoff_amount"]),
        on_date=ON,
        mode="shorten_term",
        actor=finance,
    )
    assert result.due_posting.allocation["totals"]["penalty"] == 1234
    loan.refresh_from_db()
    assert loan.status == "paid_off" and loan.credit_balance.fen == 0
    assert ledger.verify().ok
