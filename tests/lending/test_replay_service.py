"""Value-dated replay through the services on the database: a back-valued repayment, a
reversal, the first close of business catching up, the guards and 从某日重算."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest

from credo.core.money import Money
from credo.lending import eod, ledger, services
from credo.lending.accruals.models import LoanAccrual
from credo.lending.eod.runs import rerun_from
from credo.lending.models import JournalEntry, Loan, LoanClassHistory, LoanReplay, Posting
from credo.lending.replay.hooks import loan_replayed
from credo.lending.replay.service import post_waiver, replay_loan
from tests.lending.conftest import VALUE_DATE

pytestmark = pytest.mark.django_db(transaction=False)

D = dt.date


def daily(fen: int, rate: str = "12") -> int:
    value = Decimal(fen) * Decimal(rate) * Decimal("1.5") / 36000
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


@pytest.fixture
def loan(make_loan, finance):
    """120,000.00 at 12 % over 12 months; first due 2026-02-15 (春节: no 节假日顺延 here, so
    the penalty counts from 02-16 as in the issue)."""
    made = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    Loan.objects.filter(pk=made.pk).update(holiday_rule="none")
    made.refresh_from_db()
    return made


def first(loan):
    return loan.installments.get(period=1)


def adjustment_lines(loan):
    entry = JournalEntry.objects.filter(loan=loan, kind="adjustment").latest("id")
    return {
        line.account.code: line.debit.fen - line.credit.fen
        for line in entry.lines.select_related("account")
    }


def test_back_valued_repayment_is_replayed(loan, finance, django_capture_on_commit_callbacks):
    """The issue's scenario: due 02-15, closed to 02-20, the installment paid with value date
    02-15 → no penalty, principal fully paid, 正常, and no arrears at the next due date."""
    eod.run_eod(D(2026, 2, 20))
    inst = first(loan)
    p, i = inst.principal_due.fen, inst.interest_due.fen
    # 罚息 + 复利 for 02-16 … 02-20
    penalty = 5 * (daily(p) + daily(i))
    assert inst.status == "overdue" and inst.penalty_due.fen == penalty
    assert inst.compound_due.fen == 5 * daily(i)
    loan.refresh_from_db()
    assert (loan.status, loan.dpd) == ("overdue", 5)
    seen = []
    loan_replayed.register("t", lambda lid, b, a: seen.append((lid, b["status"], a["status"])))
    try:
        with django_capture_on_commit_callbacks(execute=True):
            posting = services.repayment_post(
                loan=loan, amount=Money.from_fen(p + i), received_on=D(2026, 2, 15), actor=finance
            )
    finally:
        loan_replayed.unregister("t")
    inst = first(loan)
    assert inst.status == "paid" and inst.penalty_due.fen == 0 and inst.principal_paid.fen == p
    assert inst.paid_on == D(2026, 2, 15)
    loan.refresh_from_db()
    assert (loan.status, loan.dpd, loan.classification) == ("active", 0, "normal")
    assert loan.outstanding_principal.fen == 12_000_000 - p
    posting.refresh_from_db()
    assert posting.allocation["totals"] == {"penalty": 0, "fee": 0, "interest": i, "principal": p}
    # the cash entry stays as posted (penalty first); one correcting entry dated today. On the
    # accrual basis the 罚息 received settled 应收罚息, so the correction moves it back there and
    # the accrual correction then reverses the 罚息 that was never owed: nothing left receivable
    assert adjustment_lines(loan) == {"penalty_receivable": penalty, "loan_principal": -penalty}
    accrual = LoanAccrual.objects.get(loan=loan)
    assert (accrual.penalty_receivable, accrual.penalty_off_balance) == (0, 0)
    replay = LoanReplay.objects.get(loan=loan, trigger_posting=posting)
    assert replay.trigger_posting == posting and replay.entry is not None
    assert replay.before["status"] == "overdue" and replay.after["status"] == "active"
    assert seen == [(loan.pk, "overdue", "active")]
    assert ledger.verify([loan]).ok
    # the next installment paid on time: never overdue again
    second = loan.installments.get(period=2)
    services.repayment_post(
        loan=loan,
        amount=Money.from_fen(second.amount_owed()),
        received_on=second.due_date,
        actor=finance,
    )
    eod.run_eod(second.due_date + dt.timedelta(days=5))
    loan.refresh_from_db()
    assert (loan.status, loan.dpd) == ("active", 0)
    assert sum(x.penalty_due.fen for x in loan.installments.all()) == 0
    # idempotent: replaying again changes nothing and posts no second adjustment
    n = JournalEntry.objects.filter(loan=loan, kind="adjustment").count()
    replay_loan(loan, actor=finance, reason="again")
    assert JournalEntry.objects.filter(loan=loan, kind="adjustment").count() == n


def test_reversal_restores_penalty_immediately(loan, finance):
    inst = first(loan)
    p, i = inst.principal_due.fen, inst.interest_due.fen
    posting = services.repayment_post(
        loan=loan, amount=Money.from_fen(p + i), received_on=D(2026, 2, 15), actor=finance
    )
    eod.run_eod(D(2026, 2, 20))
    loan.refresh_from_db()
    assert (loan.status, loan.dpd) == ("active", 0)
    services.posting_reverse(posting=posting, actor=finance, reason="退票")
    loan.refresh_from_db()
    inst = first(loan)
    assert (loan.status, loan.dpd, loan.classification) == ("overdue", 5, "special_mention")
    assert inst.status == "overdue" and inst.penalty_due.fen == 5 * (daily(p) + daily(i))
    assert ledger.verify([loan]).ok
    assert Posting.objects.get(pk=posting.pk).reversed_at is not None


def test_waiver_reduces_penalty_by_replay(loan, finance):
    eod.run_eod(D(2026, 2, 20))
    before = first(loan).penalty_due.fen
    waiver = post_waiver(
        loan, amounts={"penalty": 100}, value_date=D(2026, 2, 18), actor=finance, reason="困难"
    )
    assert first(loan).penalty_due.fen == before - 100
    assert first(loan).waived == {"penalty": 100}
    assert waiver.pk and LoanReplay.objects.filter(loan=loan).exists()


def test_first_close_catches_up_each_loan_from_its_start(make_loan, finance):
    """No close of business ever ran: the first one charges every day since the due date."""
    loan = services.loan_disburse(
        loan=make_loan(principal="12000", months=3), actor=finance, value_date=D(2024, 6, 3)
    )
    overdue_since = {i.period: i.due_date for i in loan.installments.all()}
    assert overdue_since[1] == D(2024, 7, 3)  # a Wednesday
    day = D(2024, 7, 3) + dt.timedelta(days=538)
    eod.run_eod(day)
    loan.refresh_from_db()
    assert loan.dpd == 538 and loan.status == "overdue"
    assert loan.classification == "loss"
    total = sum(i.penalty_due.fen for i in loan.installments.all())
    assert total > 500 * daily(400_000)  # hundreds of days, not one
    assert LoanClassHistory.objects.filter(loan=loan, to_class="loss").exists()
    assert loan.last_eod_date == day


def test_eod_refuses_a_date_before_the_last_close(loan):
    eod.run_eod(D(2026, 2, 20))
    with pytest.raises(eod.EodError, match="早于最近一次完成的日终"):
        eod.run_eod(D(2026, 2, 19))


def test_rerun_from_date_is_a_replay(loan, finance):
    eod.run_eod(D(2026, 2, 20))
    inst = first(loan)
    services.repayment_post(
        loan=loan,
        amount=Money.from_fen(inst.amount_owed()),
        received_on=D(2026, 2, 20),
        actor=finance,
    )
    entries = JournalEntry.objects.filter(loan=loan).count()
    assert rerun_from(D(2026, 2, 16), actor=finance, reason="核对") == 1
    # already consistent: nothing posted, no entry rewritten
    assert JournalEntry.objects.filter(loan=loan).count() == entries
    with pytest.raises(eod.EodError):
        rerun_from(D(2026, 3, 1), actor=finance, reason="x")
    loan.refresh_from_db()
    assert Loan.objects.get(pk=loan.pk).status == "active"


def test_collections_case_closed_after_back_valued_posting(
    loan, finance, django_capture_on_commit_callbacks
):
    """A case opened only because of the wrong state is closed with the reason."""
    from credo.collections.models import CollectionCase
    from credo.customers.models import CustomerEvent

    eod.run_eod(D(2026, 2, 20))
    # the close of business's collections job opened a case for the (wrong) arrears
    case = CollectionCase.objects.exclude(status="closed").get(loan=loan)
    inst = first(loan)
    with django_capture_on_commit_callbacks(execute=True):
        services.repayment_post(
            loan=loan,
            amount=Money.from_fen(inst.principal_due.fen + inst.interest_due.fen),
            received_on=D(2026, 2, 15),
            actor=finance,
        )
    case.refresh_from_db()
    assert case.status == "closed"
    assert CustomerEvent.objects.filter(
        customer=loan.customer, title__contains="倒起息入账后已无逾期"
    ).exists()


def test_no_value_date_before_a_restructuring_or_repricing(loan, finance):
    """A restructuring or an LPR repricing rebuilt the schedule from that day's balance: money
    valued before it cannot be replayed across it (clear refusal, nothing posted)."""
    from credo.lending.errors import InvalidLoan
    from credo.lending.models import Restructuring
    from credo.lending.replay.service import check_value_date

    day = first(loan).due_date + dt.timedelta(days=10)
    check_value_date(loan, day - dt.timedelta(days=5))  # nothing rebuilt yet: fine
    Restructuring.objects.create(
        loan=loan,
        kind="extension",
        status="executed",
        reason="测试",
        requested_by=finance,
        executed_on=day,
    )
    with pytest.raises(InvalidLoan, match="重组"):
        check_value_date(loan, day - dt.timedelta(days=5))
    check_value_date(loan, day)
