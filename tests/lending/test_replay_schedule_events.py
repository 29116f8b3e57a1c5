"""Value-dated money across a prepayment (提前还款) and an LPR repricing (重定价) on the
database: the same events posted on time on one loan and late (value-dated, after later closes
of business) on an identical loan give the same installments, loan fields and ledger balances.
An executed restructuring stays a barrier."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import pytest

from credo.core.money import Money
from credo.lending import eod, ledger, services
from credo.lending.accruals.models import LoanAccrual
from credo.lending.errors import InvalidLoan
from credo.lending.models import JournalLine, Loan, Posting, Restructuring
from credo.lending.prepay import prepay
from credo.lending.replay.service import check_value_date
from tests.lending.conftest import VALUE_DATE

pytestmark = pytest.mark.django_db(transaction=False)

D = dt.date


def state_of(loan: Loan):
    loan.refresh_from_db()
    insts = [
        (
            i.period,
            i.due_date,
            i.status,
            i.paid_on,
            i.principal_due.fen,
            i.interest_due.fen,
            i.fee_due.fen,
            i.penalty_due.fen,
            i.compound_due.fen,
            i.principal_paid.fen,
            i.interest_paid.fen,
            i.fee_paid.fen,
            i.penalty_paid.fen,
        )
        for i in loan.installments.order_by("period")
    ]
    return (
        loan.status,
        loan.dpd,
        loan.classification,
        loan.credit_balance.fen,
        loan.outstanding_principal.fen,
        loan.maturity_date,
        str(loan.annual_rate),
        insts,
    )


def balances(loan: Loan) -> dict[str, int]:
    """The loan's whole position per account: its own journal lines plus its share of the
    daily portfolio accrual entries (权责发生制: 利息计提 is one entry per product per day, the
    loan's part is its accrual sub-ledger)."""
    out: dict[str, int] = defaultdict(int)
    for line in JournalLine.objects.filter(loan=loan).select_related("account"):
        out[line.account.code] += line.debit.fen - line.credit.fen
    accrual = LoanAccrual.objects.filter(loan=loan).first()
    if accrual is not None:
        out["interest_receivable"] += accrual.interest_accrued
        out["interest_income"] -= accrual.interest_accrued
        out["penalty_receivable"] += accrual.penalty_accrued
        out["penalty_income"] -= accrual.penalty_accrued
    return {k: v for k, v in out.items() if v}


def pay(loan, amount, on, actor):
    return services.repayment_post(
        loan=loan, amount=Money.from_fen(amount), received_on=on, actor=actor
    )


def owed_of(loan, period):
    inst = loan.installments.get(period=period)
    return inst.principal_due.fen + inst.interest_due.fen + inst.fee_due.fen


@pytest.fixture
def pair(make_loan, finance):
    loans = []
    for _k in range(2):
        made = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
        Loan.objects.filter(pk=made.pk).update(holiday_rule="none")
        made.refresh_from_db()
        loans.append(made)
    return loans


@pytest.mark.parametrize("mode", ["shorten_term", "reduce_payment"])
def test_money_valued_before_a_prepayment_replays_through_it(pair, finance, mode):
    on_time, late = pair
    p1 = owed_of(on_time, 1)
    # on time: period 1 on its due date, 500.00 more three days later, a prepayment on 02-25
    pay(on_time, p1, D(2026, 2, 15), finance)
    eod.run_eod(D(2026, 2, 18))
    pay(on_time, 50_000, D(2026, 2, 18), finance)
    eod.run_eod(D(2026, 2, 24))
    prepay(
        loan=on_time,
        amount=Money("20000"),
        on_date=D(2026, 2, 25),
        mode=mode,
        actor=finance,
    )
    eod.run_eod(D(2026, 3, 14))
    next_due = on_time.installments.filter(status="scheduled").order_by("period").first()
    assert next_due.due_date == D(2026, 3, 15)
    amount = next_due.principal_due.fen + next_due.interest_due.fen + next_due.fee_due.fen
    pay(on_time, amount, D(2026, 3, 15), finance)
    eod.run_eod(D(2026, 3, 20))
    # late: the same money arrives after the closes, each with its value date; the 500.00 of
    # 02-18 arrives last — a value date before the prepayment (refused before issue 18 item 1)
    pay(late, p1, D(2026, 2, 15), finance)
    prepay(loan=late, amount=Money("20000"), on_date=D(2026, 2, 25), mode=mode, actor=finance)
    pay(late, amount, D(2026, 3, 15), finance)
    pay(late, 50_000, D(2026, 2, 18), finance)
    assert state_of(late) == state_of(on_time)
    assert balances(late) == balances(on_time)
    assert ledger.verify([on_time, late]).ok
    loan = Loan.objects.get(pk=late.pk)
    assert (loan.status, loan.dpd) == ("active", 0)


def test_repricing_is_replayed_with_the_rate_of_each_day(make_loan, finance, product_version):
    from credo.lending.models import LoanRateChange, LprRate
    from credo.lending.rates import services as rates
    from credo.lending.rates.history import seed

    seed(LprRate)
    product_version.rate_type = "lpr"
    product_version.lpr_tenor = "1y"
    product_version.spread_bp = 150
    product_version.repricing = "anniversary"
    product_version.save()
    start = D(2025, 1, 15)
    loans = []
    for _k in range(2):
        made = services.loan_disburse(
            loan=make_loan(months=24, rate="99"), actor=finance, value_date=start
        )
        Loan.objects.filter(pk=made.pk).update(holiday_rule="none")
        made.refresh_from_db()
        loans.append(made)
    on_time, late = loans
    LprRate.objects.create(
        effective_date=D(2025, 12, 22), one_year="2.9", five_year="3.4", source="test"
    )
    day = D(2026, 1, 15)
    paid = {}
    for period in range(1, 12):
        inst = on_time.installments.get(period=period)
        paid[period] = (inst.due_date, owed_of(on_time, period))
        pay(on_time, paid[period][1], inst.due_date, finance)
    eod.run_eod(day)  # its after-close job reprices both loans
    rates.reprice_due_loans(day)  # idempotent
    assert LoanRateChange.objects.filter(kind="repricing").count() == 2
    eod.run_eod(D(2026, 2, 20))
    for period in range(1, 12):  # value dates before the repricing, posted after it
        due, amount = paid[period]
        pay(late, amount, due, finance)
    assert state_of(late) == state_of(on_time)
    assert balances(late) == balances(on_time)
    loan = Loan.objects.get(pk=late.pk)
    assert str(loan.annual_rate) == "4.4000" and loan.installments.count() == 24


def test_restructuring_stays_a_barrier(pair, finance):
    loan = pair[0]
    day = D(2026, 3, 1)
    Restructuring.objects.create(
        loan=loan,
        kind="extension",
        status="executed",
        reason="测试",
        requested_by=finance,
        executed_on=day,
    )
    with pytest.raises(InvalidLoan, match="重组是按当日余额签订的新协议"):
        check_value_date(loan, D(2026, 2, 15))
    check_value_date(loan, day)


@pytest.mark.parametrize("mode", ["shorten_term", "reduce_payment"])
def test_late_prepayment_on_a_loan_in_arrears_pays_the_arrears_of_its_value_date(
    pair, finance, mode
):
    """Installment 1 (02-15) unpaid; the borrower pays 30,000.00 on 02-25 as a prepayment.
    On time: the arrears of 02-25 (10 days of 罚息/复利) are paid first, the rest prepays. Late:
    the close ran to 03-10 first, so today's rows carry 罚息 up to 03-10 — the prepayment valued
    02-25 must still pay only 02-25's arrears (before issue 18's follow-up the later 罚息 went
    into the due part and came back as 溢缴款, prepaying less principal)."""
    on_time, late = pair
    eod.run_eod(D(2026, 2, 24))
    prepay(loan=on_time, amount=Money("30000"), on_date=D(2026, 2, 25), mode=mode, actor=finance)
    eod.run_eod(D(2026, 3, 10))

    eod.run_eod(D(2026, 3, 10))
    late.refresh_from_db()
    assert late.status == "overdue" and late.dpd > 20
    result = prepay(
        loan=late, amount=Money("30000"), on_date=D(2026, 2, 25), mode=mode, actor=finance
    )
    on_time_post = Posting.objects.filter(loan=on_time, allocation__has_key="prepayment").get()
    assert result.principal == on_time_post.allocation["prepayment"]["principal"]
    assert state_of(late) == state_of(on_time)
    assert balances(late) == balances(on_time)
    late.refresh_from_db()
    assert late.credit_balance.fen == 0 and (late.status, late.dpd) == ("active", 0)
    assert ledger.verify([on_time, late]).ok


@pytest.mark.parametrize("mode", ["shorten_term", "reduce_payment"])
def test_reversing_a_prepayment_undoes_its_rebuild_of_the_schedule(pair, finance, mode):
    """冲正 of a prepayment: the loan is replayed from the contract schedule without it —
    installments, loan fields and ledger balances are those of the twin loan that never had
    it, also after closes of business ran past it and through a later repayment."""
    never, reversed_ = pair
    p1 = owed_of(never, 1)
    for loan in pair:
        pay(loan, p1, D(2026, 2, 15), finance)
    result = prepay(
        loan=reversed_, amount=Money("30000"), on_date=D(2026, 2, 25), mode=mode, actor=finance
    )
    assert state_of(reversed_) != state_of(never)
    eod.run_eod(D(2026, 3, 20))
    p2 = owed_of(never, 2)
    pay(never, p2, D(2026, 3, 15), finance)
    pay(reversed_, p2, D(2026, 3, 15), finance)  # valued before the last close: replayed
    services.posting_reverse(posting=result.posting, actor=finance, reason="银行退票")
    assert state_of(reversed_) == state_of(never)
    assert balances(reversed_) == balances(never)
    assert ledger.verify([never, reversed_]).ok
    loan = Loan.objects.get(pk=reversed_.pk)
    assert loan.installments.count() == never.installments.count()
