"""Issue 18 item 10 in the prepayment service: no extra day for loans started on the 31st,
等额本金 shorten-term keeps the principal per period, quarterly methods reschedule quarterly."""

import datetime as dt

import pytest

from credo.core.money import Money
from credo.lending import ledger, services
from credo.lending.models import Loan
from credo.lending.prepay import prepay, prepayment_quote

pytestmark = pytest.mark.django_db


def _fen(text: str) -> int:
    return Money(text).fen


def _loan(make_loan, finance, product_version, *, method, start, months=12, **kw):
    product_version.method = method
    product_version.save(update_fields=["method"])
    pending = make_loan(months=months, **kw)
    assert pending.method == method
    return services.loan_disburse(loan=pending, actor=finance, value_date=start)


def test_started_on_31st_charges_no_extra_day(make_loan, finance, product_version):
    loan = _loan(
        make_loan, finance, product_version, method="equal_installment", start=dt.date(2026, 1, 31)
    )
    dues = [i.due_date.isoformat() for i in loan.installments.order_by("period")[:3]]
    assert dues == ["2026-02-28", "2026-03-31", "2026-04-30"]
    on = dt.date(2026, 3, 10)
    q0 = prepayment_quote(loan=loan, on_date=on)
    # accrued interest counts the actual days from the clamped due date 02-28: 10 days
    assert q0["interest_from"] == "2026-02-28" and q0["interest_days"] == 10
    amount = Money.from_fen(_fen(q0["due_total"]) + 3_000_000)
    q = prepayment_quote(loan=loan, on_date=on, amount=amount)
    balance = _fen(q["remaining_principal"])
    for mode in ("reduce_payment", "shorten_term"):
        first = q["schedules"][mode]["first_installment"]
        assert first["due_date"] == "2026-03-31"
        # a whole month at 1 % (12 % / 12), not 31 days × 12 % / 360
        assert _fen(first["interest"]) == (balance + 50) // 100
        dates = [i["due_date"] for i in q["schedules"][mode]["installments"][:3]]
        assert dates == ["2026-03-31", "2026-04-30", "2026-05-31"]


def test_equal_principal_shorten_vs_reduce(make_loan, finance, product_version):
    loan = _loan(
        make_loan, finance, product_version, method="equal_principal", start=dt.date(2026, 1, 15)
    )
    assert loan.installments.get(period=2).principal_due.fen == 1_000_000
    on = dt.date(2026, 3, 1)
    q0 = prepayment_quote(loan=loan, on_date=on)
    amount = Money.from_fen(_fen(q0["due_total"]) + 3_000_000)
    q = prepayment_quote(loan=loan, on_date=on, amount=amount)
    shorter, lower = q["schedules"]["shorten_term"], q["schedules"]["reduce_payment"]
    assert lower["months"] == 11 and shorter["months"] < 11
    assert {i["principal"] for i in shorter["installments"][:-1]} == {"10000.00"}
    assert _fen(lower["first_installment"]["principal"]) < 1_000_000
    result = prepay(loan=loan, amount=amount, on_date=on, mode="shorten_term", actor=finance)
    loan.refresh_from_db()
    rest = list(loan.installments.filter(period__gt=2).order_by("period"))
    assert len(rest) == shorter["months"]
    assert all(r.principal_due.fen == 1_000_000 for r in rest[:-1])
    assert sum(r.principal_due.fen for r in rest) == loan.outstanding_principal.fen
    assert result.principal > 0 and ledger.verify().ok


@pytest.mark.parametrize("method", ["equal_installment_quarterly", "interest_quarterly"])
def test_quarterly_prepayment(make_loan, finance, product_version, method):
    loan = _loan(make_loan, finance, product_version, method=method, start=dt.date(2026, 1, 15))
    rows = list(loan.installments.order_by("period"))
    assert [r.due_date.isoformat() for r in rows] == [
        "2026-04-15",
        "2026-07-15",
        "2026-10-15",
        "2027-01-15",
    ]
    on = dt.date(2026, 5, 1)
    q0 = prepayment_quote(loan=loan, on_date=on)
    assert q0["interest_from"] == "2026-04-15" and q0["interest_days"] == 16
    amount = Money.from_fen(_fen(q0["due_total"]) + 3_000_000)
    q = prepayment_quote(loan=loan, on_date=on, amount=amount)
    lower = q["schedules"]["reduce_payment"]
    assert lower["months"] == 3  # three quarterly installments left
    assert [i["due_date"] for i in lower["installments"]] == [
        "2026-07-15",
        "2026-10-15",
        "2027-01-15",
    ]
    prepay(loan=loan, amount=amount, on_date=on, mode="shorten_term", actor=finance)
    loan.refresh_from_db()
    assert loan.status == Loan.Status.ACTIVE and ledger.verify().ok
    assert loan.maturity_date <= dt.date(2027, 1, 15)


def test_second_prepayment_in_the_same_period(make_loan, finance, product_version):
    """The row a first prepayment leaves is not a period boundary: the second one accrues
    from the scheduled due date and the new schedule keeps the month-end due dates."""
    loan = _loan(
        make_loan, finance, product_version, method="equal_installment", start=dt.date(2026, 1, 31)
    )
    first_on, second_on = dt.date(2026, 3, 10), dt.date(2026, 3, 20)
    q0 = prepayment_quote(loan=loan, on_date=first_on)
    prepay(
        loan=loan,
        amount=Money.from_fen(_fen(q0["due_total"]) + 2_000_000),
        on_date=first_on,
        mode="reduce_payment",
        actor=finance,
    )
    loan.refresh_from_db()
    q1 = prepayment_quote(loan=loan, on_date=second_on)
    assert q1["interest_from"] == "2026-02-28" and q1["interest_days"] == 20
    q = prepayment_quote(loan=loan, on_date=second_on, amount=Money("10000"))
    dates = [i["due_date"] for i in q["schedules"]["reduce_payment"]["installments"][:2]]
    assert dates == ["2026-03-31", "2026-04-30"]
    prepay(
        loan=loan, amount=Money("10000"), on_date=second_on, mode="reduce_payment", actor=finance
    )
    loan.refresh_from_db()
    rows = list(loan.installments.order_by("period"))
    assert [r.period for r in rows] == list(range(1, len(rows) + 1))
    assert sum(r.principal_due.fen for r in rows) == 12_000_000
    assert ledger.verify().ok
