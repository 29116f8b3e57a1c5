"""Accrual accounting (权责发生制, issue 20 item 4): the daily accrual of the close of business,
its per-loan sub-ledger, receipts settling the receivable, non-accrual across the DPD
threshold, reversals/replays and ``credo ledger verify``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import transaction
from django.db.models import F, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credo.core.money import Money
from credo.lending import eod, ledger, services
from credo.lending.accruals import calc
from credo.lending.accruals.models import AccrualBatch, BookSettings, LoanAccrual
from credo.lending.accruals.services import book_settings_update, is_accrual
from credo.lending.models import JournalEntry, JournalLine, Loan, Product, ProductVersion
from tests.lending.conftest import BOOKED_ON, VALUE_DATE, book_on

D = dt.date


# ---------------------------------------------------------------------------------------------
# pure arithmetic
# ---------------------------------------------------------------------------------------------


@given(
    interest=st.integers(min_value=0, max_value=10**12),
    start=st.dates(min_value=D(2000, 1, 1), max_value=D(2040, 1, 1)),
    days=st.integers(min_value=1, max_value=400),
)
def test_daily_amounts_add_up_to_the_scheduled_interest(interest, start, days):
    due = start + dt.timedelta(days=days)
    amounts = calc.daily_amounts(interest, start, due)
    assert len(amounts) == days
    assert sum(amounts) == interest  # no rounding drift
    assert all(a >= 0 for a in amounts)
    # each day's amount differs from the exact daily share by less than one fen
    assert max(amounts) - min(amounts) <= 1


def test_cumulative_known_answer():
    # 1,000.00 over a 31-day period: ⌊100000 × d / 31⌋
    start, due = D(2026, 1, 15), D(2026, 2, 15)
    assert calc.cumulative(100_000, start, due, start) == 0
    assert calc.cumulative(100_000, start, due, D(2026, 1, 16)) == 3225
    assert calc.cumulative(100_000, start, due, D(2026, 2, 14)) == 96774
    assert calc.cumulative(100_000, start, due, due) == 100_000
    assert calc.cumulative(100_000, start, due, D(2026, 3, 1)) == 100_000


def test_split_receipt():
    assert calc.split_receipt(500, 1200) == (500, 0)
    assert calc.split_receipt(1500, 1200) == (1200, 300)
    assert calc.split_receipt(700, 0) == (0, 700)


# ---------------------------------------------------------------------------------------------
# through the close of business
# ---------------------------------------------------------------------------------------------


@pytest.fixture
def loan(make_loan, finance):
    """120,000.00 at 12% over 12 months, equal installments; first due 2026-02-15."""
    return services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)


@pytest.fixture
def bullet_loan(owner, borrower, finance):
    """10,000.00 at 12%, one installment due 2026-04-15."""
    product = Product.objects.create(code="bullet-acc", name="到期还本")
    pv = ProductVersion.objects.create(
        product=product,
        number=1,
        status="published",
        min_amount=Money("10000"),
        max_amount=Money("100000"),
        min_months=3,
        max_months=12,
        min_rate=Decimal("4"),
        max_rate=Decimal("18"),
        method="bullet",
        penalty_multiplier=Decimal("1.5"),
        allocation_order=["penalty", "fee", "interest", "principal"],
        holiday_rule="none",
        compound_interest=False,
    )
    created = services.loan_create(
        customer=borrower,
        product_version=pv,
        principal=Money("10000"),
        annual_rate=Decimal("12"),
        months=3,
        actor=owner,
    )
    created = book_on(created, BOOKED_ON)
    return services.loan_disburse(loan=created, actor=finance, value_date=VALUE_DATE)


def receivable(code: str = "interest_receivable") -> int:
    agg = JournalLine.objects.filter(account__code=code).aggregate(d=Sum("debit"), c=Sum("credit"))
    return ledger.fen(agg["d"]) - ledger.fen(agg["c"])


def income_of(loan: Loan, code: str = "interest_income") -> int:
    """Interest income recognised for one loan: its own lines plus its daily accruals."""
    own = -ledger.loan_account_balance(loan, code)
    state = LoanAccrual.objects.filter(loan=loan).first()
    return own + (state.interest_accrued if state and code == "interest_income" else 0)


def assert_verified() -> None:
    report = ledger.verify()
    assert report.ok, report.problems


@pytest.mark.django_db
def test_new_book_is_on_the_accrual_basis():
    assert is_accrual()
    assert BookSettings.objects.get(pk=1).basis == "accrual"  # the migration's row


@pytest.mark.django_db
def test_a_period_accrues_exactly_its_scheduled_interest(loan):
    first = loan.installments.get(period=1)
    eod.run_eod(D(2026, 1, 16))
    state = LoanAccrual.objects.get(loan=loan)
    assert state.interest_accrued == calc.cumulative(
        first.interest_due.fen, VALUE_DATE, first.due_date, D(2026, 1, 16)
    )
    eod.run_eod(D(2026, 2, 15))  # catches up every day to the due date
    state.refresh_from_db()
    assert state.interest_accrued == first.interest_due.fen
    assert receivable() == first.interest_due.fen
    # one entry per product per business date, no loan on it
    entries = JournalEntry.objects.filter(kind="accrual", loan__isnull=True)
    assert entries.count() == 31
    assert entries.values("business_date").distinct().count() == 31
    assert not AccrualBatch.objects.filter(entry__isnull=True).exists()
    assert_verified()
    # the next period starts the next day
    eod.run_eod(D(2026, 2, 16))
    state.refresh_from_db()
    second = loan.installments.get(period=2)
    assert state.period_due == second.due_date
    assert state.interest_accrued == first.interest_due.fen + calc.cumulative(
        second.interest_due.fen, first.due_date, second.due_date, D(2026, 2, 16)
    )
    assert_verified()


@pytest.mark.django_db
def test_repayment_settles_the_receivable_then_income(loan, finance):
    first = loan.installments.get(period=1)
    eod.run_eod(D(2026, 2, 14))
    accrued = LoanAccrual.objects.get(loan=loan).interest_receivable
    assert 0 < accrued < first.interest_due.fen
    posting = services.repayment_post(
        loan=loan,
        amount=Money.from_fen(first.principal_due.fen + first.interest_due.fen),
        received_on=D(2026, 2, 15),
        actor=finance,
    )
    lines = {
        line.account.code: (line.debit.fen, line.credit.fen)
        for line in posting.entry.lines.select_related("account")
    }
    assert lines["interest_receivable"] == (0, accrued)
    assert lines["interest_income"] == (0, first.interest_due.fen - accrued)
    assert LoanAccrual.objects.get(loan=loan).interest_receivable == 0
    eod.run_eod(D(2026, 2, 15))
    # the close of the due date accrues nothing more for period 1: recognised = scheduled
    assert income_of(loan) == first.interest_due.fen
    assert receivable() == 0
    assert_verified()


@pytest.mark.django_db
def test_reversal_restores_the_receivable(loan, finance):
    first = loan.installments.get(period=1)
    eod.run_eod(D(2026, 2, 20))
    posting = services.repayment_post(
        loan=loan,
        amount=Money.from_fen(first.principal_due.fen + first.interest_due.fen),
        received_on=D(2026, 2, 20),
        actor=finance,
    )
    assert_verified()
    services.posting_reverse(posting=posting, actor=finance, reason="退票")
    assert_verified()
    state = LoanAccrual.objects.get(loan=loan)
    # period 1 unpaid again and period 2 accrued to the 20th
    second = loan.installments.get(period=2)
    assert state.interest_receivable == first.interest_due.fen + calc.cumulative(
        second.interest_due.fen, first.due_date, second.due_date, D(2026, 2, 20)
    )


@pytest.mark.django_db
def test_back_valued_repayment_replay_keeps_the_sub_ledger(loan, finance):
    first = loan.installments.get(period=1)
    eod.run_eod(D(2026, 2, 25))
    services.repayment_post(
        loan=loan,
        amount=Money.from_fen(first.principal_due.fen + first.interest_due.fen),
        received_on=D(2026, 2, 15),  # back-valued: replayed from the 15th
        actor=finance,
    )
    assert_verified()
    state = LoanAccrual.objects.get(loan=loan)
    second = loan.installments.get(period=2)
    assert state.interest_receivable == calc.cumulative(
        second.interest_due.fen, first.due_date, second.due_date, D(2026, 2, 25)
    )


@pytest.mark.django_db
def test_non_accrual_over_the_threshold_and_back(bullet_loan, finance):
    book_settings_update(basis="accrual", non_accrual_dpd=5, actor=finance)
    inst = bullet_loan.installments.get()
    eod.run_eod(D(2026, 4, 15))
    state = LoanAccrual.objects.get(loan=bullet_loan)
    assert state.interest_receivable == inst.interest_due.fen
    eod.run_eod(D(2026, 4, 20))  # DPD 5: still accruing (罚息 accrued daily)
    state.refresh_from_db()
    assert state.non_accrual_since is None
    assert state.penalty_receivable == 5 * 500
    eod.run_eod(D(2026, 4, 21))  # DPD 6 > 5: 转非应计
    state.refresh_from_db()
    assert state.non_accrual_since == D(2026, 4, 21)
    assert state.interest_receivable == 0 and state.penalty_receivable == 0
    assert state.interest_off_balance == inst.interest_due.fen
    assert state.penalty_off_balance == 6 * 500  # reversed 5 days + the 21st off balance
    reversal = JournalEntry.objects.get(kind="non_accrual", loan=bullet_loan)
    assert {
        (line.account.code, line.debit.fen, line.credit.fen)
        for line in reversal.lines.select_related("account")
    } == {
        ("interest_income", inst.interest_due.fen, 0),
        ("interest_receivable", 0, inst.interest_due.fen),
        ("penalty_income", 2500, 0),
        ("penalty_receivable", 0, 2500),
    }
    assert receivable() == 0 and receivable("penalty_receivable") == 0
    assert_verified()
    eod.run_eod(D(2026, 4, 22))
    state.refresh_from_db()
    assert state.penalty_off_balance == 7 * 500
    assert receivable("penalty_receivable") == 0  # nothing accrued while non-accrual
    # collected: recognised as income when received, 表外 reduced
    posting = services.repayment_post(
        loan=bullet_loan,
        amount=Money.from_fen(10_000_00 + inst.interest_due.fen + 7 * 500),
        received_on=D(2026, 4, 22),
        actor=finance,
    )
    lines = {
        line.account.code: (line.debit.fen, line.credit.fen)
        for line in posting.entry.lines.select_related("account")
    }
    assert lines["interest_income"] == (0, inst.interest_due.fen)
    assert "interest_receivable" not in lines
    state.refresh_from_db()
    assert state.interest_off_balance == 0 and state.penalty_off_balance == 0
    assert_verified()


@pytest.mark.django_db
def test_cured_loan_accrues_again(make_loan, finance):
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    book_settings_update(basis="accrual", non_accrual_dpd=3, actor=finance)
    first = loan.installments.get(period=1)
    eod.run_eod(D(2026, 2, 20))  # DPD 5 > 3
    state = LoanAccrual.objects.get(loan=loan)
    assert state.non_accrual_since is not None
    off = state.interest_off_balance
    assert off > first.interest_due.fen  # period 1 + period 2 so far, off balance
    services.repayment_post(
        loan=loan,
        amount=Money.from_fen(first.principal_due.fen + first.interest_due.fen + 100_00),
        received_on=D(2026, 2, 21),
        actor=finance,
    )
    eod.run_eod(D(2026, 2, 21))
    state.refresh_from_db()
    assert state.non_accrual_since is None  # current again: back to accrual
    second = loan.installments.get(period=2)
    # period 2's days before the cure stay off balance until received; the 21st is accrued
    assert state.interest_accrued - first.interest_due.fen < second.interest_due.fen
    assert_verified()


@pytest.mark.django_db
def test_cash_basis_book_does_not_accrue(loan, finance):
    book_settings_update(basis="cash", non_accrual_dpd=90, actor=finance)
    eod.run_eod(D(2026, 2, 15))
    assert not LoanAccrual.objects.exists()
    assert not JournalEntry.objects.filter(kind="accrual").exists()
    first = loan.installments.get(period=1)
    posting = services.repayment_post(
        loan=loan,
        amount=Money.from_fen(first.principal_due.fen + first.interest_due.fen),
        received_on=D(2026, 2, 15),
        actor=finance,
    )
    codes = {line.account.code for line in posting.entry.lines.select_related("account")}
    assert "interest_receivable" not in codes
    assert_verified()


@pytest.mark.django_db
def test_verify_finds_a_broken_sub_ledger(loan):
    eod.run_eod(D(2026, 1, 20))
    assert_verified()
    LoanAccrual.objects.filter(loan=loan).update(interest_accrued=1)
    problems = ledger.verify().problems
    assert any("interest_receivable" in p for p in problems)


@pytest.mark.django_db
def test_unposted_batches_are_reconciled(loan):
    eod.run_eod(D(2026, 1, 20))
    # a chunk closed, its batch not yet posted: the sub-ledger is ahead of the control account
    AccrualBatch.objects.create(
        business_date=D(2026, 1, 21), product_id=loan.product_version.product_id, interest=7
    )
    LoanAccrual.objects.filter(loan=loan).update(interest_accrued=F("interest_accrued") + 7)
    assert_verified()


@pytest.mark.django_db
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["close", "pay", "reverse"]),
            st.integers(min_value=1, max_value=20),
            st.integers(min_value=1, max_value=3000_00),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_sequences_keep_sub_ledger_equal_to_control(make_loan, finance, steps):
    """Closes, repayments (also back-valued), reversals, non-accrual (threshold 10 days) in any
    order: the receivable control accounts always equal the sub-ledger."""
    from credo.lending.models import Posting

    with transaction.atomic():
        book_settings_update(basis="accrual", non_accrual_dpd=10, actor=finance)
        loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
        day = D(2026, 2, 1)
        for action, days, amount in steps:
            if action == "close":
                day = day + dt.timedelta(days=days)
                eod.run_eod(day)
            elif action == "pay":
                received = max(VALUE_DATE, day - dt.timedelta(days=days % 5))
                services.repayment_post(
                    loan=Loan.objects.get(pk=loan.pk),
                    amount=Money.from_fen(amount),
                    received_on=received,
                    actor=finance,
                )
            else:
                posting = Posting.objects.filter(loan=loan, reversed_at__isnull=True).last()
                if posting is not None:
                    services.posting_reverse(posting=posting, actor=finance, reason="测试冲正")
            assert_verified()
        transaction.set_rollback(True)  # the next example starts from the fixture's book


@pytest.mark.django_db
def test_month_with_unposted_accruals_cannot_be_closed(loan):
    from credo.lending.books.services import close_blockers

    eod.run_eod(D(2026, 1, 31))
    assert not any("利息计提" in p for p in close_blockers(D(2026, 1, 1)))
    AccrualBatch.objects.create(
        business_date=D(2026, 1, 31), product_id=loan.product_version.product_id, interest=1
    )
    assert any("利息计提" in p for p in close_blockers(D(2026, 1, 1)))


@pytest.mark.django_db
def test_loan_to_non_accrual_on_demand(loan, finance):
    from credo.lending.accruals.services import loan_to_non_accrual

    eod.run_eod(D(2026, 1, 25))
    accrued = LoanAccrual.objects.get(loan=loan).interest_receivable
    assert loan_to_non_accrual(loan=loan, day=D(2026, 1, 25), actor=finance, why="核销") == (
        accrued,
        0,
    )
    state = LoanAccrual.objects.get(loan=loan)
    assert state.interest_receivable == 0 and state.interest_off_balance == accrued
    assert loan_to_non_accrual(loan=loan, day=D(2026, 1, 25), actor=finance, why="again") == (0, 0)
    assert_verified()


# ---------------------------------------------------------------------------------------------
# schedule rebuilt mid-period (提前还款, 重定价): receivable = earned − received after every close
# ---------------------------------------------------------------------------------------------


def earned_minus_paid(loan: Loan, day: dt.date) -> int:
    """The interest a loan has earned by the end of ``day`` on its current schedule (the
    periods between consecutive due dates, fully elapsed ones in full, the current one pro rata
    ⌊interest × elapsed / days⌋) minus the interest it has received — computed here on its
    own, not with :mod:`credo.lending.accruals.calc`."""
    earned = paid = 0
    begin = loan.start_date
    for inst in Loan.objects.get(pk=loan.pk).installments.order_by("due_date", "period"):
        days = (inst.due_date - begin).days
        if day >= inst.due_date or days <= 0:
            earned += inst.interest_due.fen
        elif day > begin:
            earned += inst.interest_due.fen * (day - begin).days // days
        paid += inst.interest_paid.fen
        begin = inst.due_date
    return earned - paid


def close_and_check(loan: Loan, first: dt.date, last: dt.date) -> None:
    day = first
    while day <= last:
        eod.run_eod(day)
        state = LoanAccrual.objects.get(loan=loan)
        assert state.interest_receivable == earned_minus_paid(loan, day), day
        assert state.non_accrual_since is None
        day += dt.timedelta(days=1)


def pay_installment(loan: Loan, period: int, finance) -> None:
    inst = Loan.objects.get(pk=loan.pk).installments.get(period=period)
    owed = inst.principal_due.fen + inst.interest_due.fen + inst.fee_due.fen
    services.repayment_post(
        loan=loan, amount=Money.from_fen(owed), received_on=inst.due_date, actor=finance
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mode", "at_03_20"),
    # known answers: 5 days of the new installment 4 (80,849 fen / 04-15 − 03-15 = 31 days:
    # ⌊80849 × 5 / 31⌋ = 13040) with shorten_term; reduce_payment's own installment 4
    [("shorten_term", 13040), ("reduce_payment", None)],
)
def test_receivable_after_a_mid_period_prepayment(loan, finance, mode, at_03_20):
    """The period 02-15 → 03-15 accrued 9 days of its old interest when the prepayment of 02-25
    rebuilt the schedule: the receivable follows the new schedule from the next close (was:
    the old period's interest kept accruing on top of the new one's — 9,340 fen too much)."""
    from credo.lending.prepay import prepay

    Loan.objects.filter(pk=loan.pk).update(holiday_rule="none")
    loan.refresh_from_db()
    close_and_check(loan, D(2026, 1, 16), D(2026, 2, 14))
    pay_installment(loan, 1, finance)
    close_and_check(loan, D(2026, 2, 15), D(2026, 2, 24))
    prepay(loan=loan, amount=Money("20000"), on_date=D(2026, 2, 25), mode=mode, actor=finance)
    close_and_check(loan, D(2026, 2, 25), D(2026, 3, 14))
    nxt = loan.installments.filter(status="scheduled").order_by("period").first()
    assert nxt.due_date == D(2026, 3, 15)
    pay_installment(loan, nxt.period, finance)
    close_and_check(loan, D(2026, 3, 15), D(2026, 3, 20))
    state = LoanAccrual.objects.get(loan=loan)
    after = loan.installments.get(due_date=D(2026, 4, 15))
    assert state.interest_receivable == calc.cumulative(
        after.interest_due.fen, D(2026, 3, 15), D(2026, 4, 15), D(2026, 3, 20)
    )
    if at_03_20 is not None:
        assert state.interest_receivable == at_03_20
    # recognised = 1st period + the prepayment's interest + installment 3 + 5 days of 4
    prepaid = loan.installments.get(due_date=D(2026, 2, 25)).interest_due.fen
    assert income_of(loan) == 120_000 + prepaid + nxt.interest_due.fen + state.interest_receivable
    assert_verified()


@pytest.mark.django_db
def test_receivable_after_a_mid_period_repricing(make_loan, finance, product_version):
    """A floating loan repriced on 01-01 (annual_jan1) in the middle of its period 12-10 → 01-10:
    the current period keeps its interest, the rebuilt ones accrue at the new rate."""
    from credo.lending.models import LoanRateChange, LprRate
    from credo.lending.rates.history import seed

    seed(LprRate)
    product_version.rate_type = "lpr"
    product_version.lpr_tenor = "1y"
    product_version.spread_bp = 150
    product_version.repricing = "annual_jan1"
    product_version.save()
    start = D(2025, 12, 10)
    loan = services.loan_disburse(
        loan=make_loan(months=24, rate="99"), actor=finance, value_date=start
    )
    Loan.objects.filter(pk=loan.pk).update(holiday_rule="none")
    loan.refresh_from_db()
    LprRate.objects.create(
        effective_date=D(2025, 12, 22), one_year="2.9", five_year="3.4", source="test"
    )
    before = loan.installments.get(period=2).interest_due.fen
    close_and_check(loan, D(2025, 12, 11), D(2026, 1, 9))
    assert LoanRateChange.objects.filter(loan=loan, kind="repricing").count() == 1
    assert loan.installments.get(period=2).interest_due.fen < before  # rebuilt, lower rate
    pay_installment(loan, 1, finance)
    close_and_check(loan, D(2026, 1, 10), D(2026, 2, 12))
    assert_verified()


@pytest.mark.django_db
@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    day=st.integers(min_value=1, max_value=27),
    amount=st.integers(min_value=1_000_00, max_value=50_000_00),
    mode=st.sampled_from(["shorten_term", "reduce_payment"]),
)
def test_prepayment_any_day_keeps_receivable_earned_minus_received(
    make_loan, finance, day, amount, mode
):
    """A partial prepayment on any day of the second period, any amount, either mode."""
    from credo.lending.prepay import prepay

    with transaction.atomic():
        loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
        Loan.objects.filter(pk=loan.pk).update(holiday_rule="none")
        loan.refresh_from_db()
        eod.run_eod(D(2026, 2, 14))
        pay_installment(loan, 1, finance)
        on = D(2026, 2, 15) + dt.timedelta(days=day)
        close_and_check(loan, D(2026, 2, 15), on - dt.timedelta(days=1))
        prepay(loan=loan, amount=Money.from_fen(amount), on_date=on, mode=mode, actor=finance)
        close_and_check(loan, on, D(2026, 3, 14))
        assert_verified()
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_period_is_rechecked_only_when_the_loan_version_moved(loan, monkeypatch):
    """The close re-checks a loan's accrual period against its schedule only when the loan's
    version moved since the last check (every schedule rebuild bumps it)."""
    from credo.lending.accruals import services as accrual_services

    eod.run_eod(D(2026, 1, 16))
    state = LoanAccrual.objects.get(loan=loan)
    loan.refresh_from_db()
    assert state.checked_version == loan.version
    seen: list[list[int]] = []
    real = accrual_services.loans_reconcile

    def spy(loans, actor, today):
        loans = list(loans)
        seen.append([x.pk for x in loans])
        return real(loans, actor, today)

    monkeypatch.setattr(accrual_services, "loans_reconcile", spy)
    # a period that is no longer one of the schedule's, but the version has not moved:
    # nothing rebuilt the schedule through a service, so the row is not re-checked
    LoanAccrual.objects.filter(loan=loan).update(period_interest=F("period_interest") + 1)
    eod.run_eod(D(2026, 1, 17))
    assert seen == []
    # the same after a version bump (what a prepayment, repricing or replay does): reconciled
    LoanAccrual.objects.filter(loan=loan).update(period_interest=F("period_interest") + 1)
    Loan.objects.filter(pk=loan.pk).update(version=F("version") + 1)
    eod.run_eod(D(2026, 1, 18))
    assert seen == [[loan.pk]]
    state.refresh_from_db()
    loan.refresh_from_db()
    assert state.checked_version == loan.version
    assert state.period_interest == loan.installments.get(period=1).interest_due.fen
