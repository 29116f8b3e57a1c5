import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.lending import ledger, services
from credo.lending.errors import IdempotencyConflict, InvalidLoan, InvalidState, MakerChecker
from credo.lending.models import JournalEntry, Loan, Posting
from tests.lending.conftest import VALUE_DATE

pytestmark = pytest.mark.django_db


def test_loan_terms_validated_against_product(make_loan):
    with pytest.raises(InvalidLoan, match="金额"):
        make_loan(principal="100")
    with pytest.raises(InvalidLoan, match="期限"):
        make_loan(months=120)
    with pytest.raises(InvalidLoan, match="年利率"):
        make_loan(rate="24")
    assert Loan.objects.count() == 0


def test_disbursement_maker_checker_schedule_and_ledger(make_loan, owner, finance):
    loan = make_loan()
    with pytest.raises(MakerChecker):
        services.loan_disburse(loan=loan, actor=owner, value_date=VALUE_DATE)
    loan = services.loan_disburse(loan=loan, actor=finance, value_date=VALUE_DATE)
    assert loan.status == "active" and loan.outstanding_principal == Money("120000")
    assert loan.installments.count() == 12
    assert sum(i.principal_due.fen for i in loan.installments.all()) == 12_000_000
    assert loan.upfront_fee == Money("1200")
    assert ledger.loan_account_balance(loan, "loan_principal") == 12_000_000
    assert ledger.loan_account_balance(loan, "cash") == -(12_000_000 - 120_000)
    assert ledger.verify().ok
    with pytest.raises(InvalidState):
        services.loan_disburse(loan=loan, actor=finance, value_date=VALUE_DATE)
    assert loan.customer.events.filter(kind="disbursement").exists()


def test_repayment_allocation_overpayment_and_reversal(make_loan, finance):
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    first = loan.installments.get(period=1)
    due = first.principal_due.fen + first.interest_due.fen  # 10661.85 at 12 %/12 months
    posting = services.repayment_post(
        loan=loan, amount=Money.from_fen(due + 5000), received_on=first.due_date, actor=finance
    )
    first.refresh_from_db()
    loan.refresh_from_db()
    assert first.status == "paid"
    assert posting.allocation["totals"]["interest"] == first.interest_due.fen
    assert posting.allocation["credit"] == 5000 and loan.credit_balance.fen == 5000
    assert loan.outstanding_principal.fen == 12_000_000 - first.principal_due.fen
    assert ledger.verify().ok

    services.posting_reverse(posting=posting, actor=finance, reason="错账")
    first.refresh_from_db()
    loan.refresh_from_db()
    assert first.status != "paid" and first.principal_paid.fen == 0
    assert loan.outstanding_principal.fen == 12_000_000 and loan.credit_balance.fen == 0
    assert JournalEntry.objects.filter(kind="reversal", reverses=posting.entry).exists()
    assert ledger.verify().ok
    with pytest.raises(InvalidState):
        services.posting_reverse(posting=posting, actor=finance, reason="again")


def test_idempotent_posting_and_conflict(make_loan, finance):
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    on = loan.installments.get(period=1).due_date
    a = services.repayment_post(
        loan=loan, amount=Money("500"), received_on=on, actor=finance, idempotency_key="bank-001"
    )
    b = services.repayment_post(
        loan=loan, amount=Money("500"), received_on=on, actor=finance, idempotency_key="bank-001"
    )
    assert a.pk == b.pk and Posting.objects.count() == 1
    with pytest.raises(IdempotencyConflict):
        services.repayment_post(
            loan=loan,
            amount=Money("600"),
            received_on=on,
            actor=finance,
            idempotency_key="bank-001",
        )
    assert Posting.objects.count() == 1 and ledger.verify().ok


def test_bad_postings_change_nothing(make_loan, finance):
    loan = make_loan()
    with pytest.raises(InvalidState):  # not disbursed
        services.repayment_post(loan=loan, amount=Money("1"), received_on=VALUE_DATE, actor=finance)
    loan = services.loan_disburse(loan=loan, actor=finance, value_date=VALUE_DATE)
    with pytest.raises(InvalidLoan):
        services.repayment_post(loan=loan, amount=Money("0"), received_on=VALUE_DATE, actor=finance)
    with pytest.raises(InvalidLoan, match="晚于今天"):
        services.repayment_post(
            loan=loan,
            amount=Money("1"),
            received_on=dt.date.today() + dt.timedelta(days=1),
            actor=finance,
        )
    # 放款 + the upfront fee's two 前置手续费 entries (receivable, paid at disbursement)
    assert Posting.objects.count() == 0 and JournalEntry.objects.count() == 3


def test_pay_off_everything(make_loan, finance):
    loan = services.loan_disburse(loan=make_loan(months=3), actor=finance, value_date=VALUE_DATE)
    total = sum(i.principal_due.fen + i.interest_due.fen for i in loan.installments.all())
    last_due = loan.installments.order_by("-period").first().due_date
    services.repayment_post(
        loan=loan, amount=Money.from_fen(total), received_on=last_due, actor=finance
    )
    loan.refresh_from_db()
    assert loan.status == "paid_off" and loan.outstanding_principal.fen == 0
    with pytest.raises(InvalidState, match="已结清"):
        services.repayment_post(loan=loan, amount=Money("1"), received_on=last_due, actor=finance)
    out = __import__("io").StringIO()
    call_command("ledger", "verify", stdout=out)
    assert "ledger OK" in out.getvalue()
    assert AuditEntry.objects.filter(action="loan.repayment").count() == 1


def test_ledger_verify_detects_tampering(make_loan, finance):
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    Loan.objects.filter(pk=loan.pk).update(outstanding_principal=11_000_000)
    with pytest.raises(CommandError, match="invariants broken"):
        call_command(
            "ledger",
            "verify",
            stdout=__import__("io").StringIO(),
            stderr=__import__("io").StringIO(),
        )


def test_penalty_for_day(make_loan):
    loan = make_loan(rate="12")
    # 10,000.00 overdue × 12 % × 1.5 / 360 = 5.00 a day
    assert services.penalty_for_day(loan, 1_000_000) == 500
    assert services.penalty_for_day(loan, 1) == 0
    assert loan.penalty_multiplier == Decimal("1.5")


def test_customer_key_figures(make_loan, finance, borrower):
    from credo.customers.selectors import key_figures

    assert key_figures(borrower)["outstanding"] is None
    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    Loan.objects.filter(pk=loan.pk).update(status="overdue")
    loan.installments.filter(period=1).update(status="overdue")
    figures = key_figures(borrower)
    first = loan.installments.get(period=1)
    assert figures["total_credit"] == "¥120,000.00" and figures["outstanding"] == "¥120,000.00"
    assert (
        figures["overdue"]
        == Money.from_fen(first.principal_due.fen + first.interest_due.fen).format()
    )


def test_prepayment_reversal_refused_when_the_contract_schedule_cannot_be_traced(
    make_loan, finance
):
    """A stored schedule that differs from the contract's before the prepayment (a migrated or
    hand-edited loan) cannot be replayed back: the reversal is refused and changes nothing."""
    from credo.lending.models import Installment, JournalEntry
    from credo.lending.prepay import prepay

    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    on = loan.installments.get(period=2).due_date
    result = prepay(
        loan=loan, amount=Money("30000"), on_date=on, mode="shorten_term", actor=finance
    )
    first = loan.installments.get(period=1)
    Installment.objects.filter(pk=first.pk).update(due_date=first.due_date - dt.timedelta(days=1))
    entries = JournalEntry.objects.count()
    with pytest.raises(InvalidState, match="无法从合同条款还原"):
        services.posting_reverse(posting=result.posting, actor=finance, reason="误操作")
    result.posting.refresh_from_db()
    assert result.posting.reversed_at is None
    assert JournalEntry.objects.count() == entries
