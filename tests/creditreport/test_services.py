"""Generation, approval, export and corrections on the database."""

from __future__ import annotations

import datetime as dt

import pytest

from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.creditreport import services
from credo.creditreport.errors import InvalidState, NotPermitted
from credo.creditreport.models import CreditRecord, Submission
from credo.creditreport.writers import read_text
from credo.lending import services as lending
from tests.creditreport.conftest import close_months

pytestmark = pytest.mark.django_db

D = dt.date
FEB, MAR = D(2026, 2, 1), D(2026, 3, 1)


def test_month_records_as_of_the_month_end(book, reporter):
    sub = services.submission_generate(month=FEB, actor=reporter)
    rec = sub.records.get()
    inst1 = book.installments.get(period=1)
    assert rec.kind == "monthly" and rec.account_number == book.number
    assert (rec.borrower_name, rec.id_type) == (book.customer.name, "uscc")
    assert rec.id_number == book.customer.uscc
    assert (rec.open_date, rec.maturity_date) == (D(2026, 1, 15), book.maturity_date)
    assert rec.amount.fen == 12_000_000 and rec.balance.fen == 12_000_000
    assert rec.currency == "CNY" and rec.repayment_frequency == "monthly"
    assert rec.guarantee_type == "credit"
    # February: the first installment (due 02-15) unpaid at 02-28
    assert (rec.overdue_periods, rec.account_status) == (1, "overdue")
    assert rec.overdue_principal.fen == inst1.principal_due.fen
    assert rec.overdue_amount.fen == inst1.principal_due.fen + inst1.interest_due.fen
    assert rec.overdue_days == 13
    assert rec.status_string == "/" * 22 + "*1"
    assert rec.five_class == "special_mention"
    assert rec.ledger_balance == 12_000_000 and rec.errors == []
    assert sub.counts["records"] == 1 and sub.error_count == 0
    assert AuditEntry.objects.filter(action="creditreport.generate").exists()
    march = services.submission_generate(month=MAR, actor=reporter).records.get()
    assert march.status_string.endswith("*12") and march.overdue_periods == 2


def test_generation_needs_a_closed_month_and_never_replaces_an_approved_one(
    book, reporter, checker
):
    with pytest.raises(InvalidState, match="尚未结账"):
        services.submission_generate(month=D(2026, 4, 1), actor=reporter)
    first = services.submission_generate(month=FEB, actor=reporter)
    again = services.submission_generate(month=FEB, actor=reporter)  # a draft is regenerated
    first.refresh_from_db()
    assert first.status == "cancelled" and not first.records.exists()
    with pytest.raises(NotPermitted, match="第二人"):
        services.submission_approve(submission=again, actor=reporter)
    services.submission_approve(submission=again, actor=checker)
    with pytest.raises(InvalidState, match="已审核"):
        services.submission_generate(month=FEB, actor=reporter)


def test_approve_export_submit(book, reporter, checker):
    sub = services.submission_generate(month=FEB, actor=reporter)
    with pytest.raises(InvalidState):
        services.submission_mark_submitted(submission=sub, actor=checker)
    services.submission_approve(submission=sub, actor=checker)
    f = services.submission_export(
        submission=sub, writer="reference-text", encoding="gb18030", actor=checker
    )
    data = services.file_read(f=f, actor=checker)
    [row] = read_text(data, "gb18030")
    assert row["borrower_name"] == book.customer.name and row["balance"] == "120000.00"
    assert row["status_string"].endswith("*1") and row["record_type"] == "M"
    services.submission_mark_submitted(submission=sub, actor=checker, note="已上传")
    sub.refresh_from_db()
    assert (sub.status, sub.submitted_by, sub.approved_by) == ("submitted", checker, checker)
    actions = set(AuditEntry.objects.values_list("action", flat=True))
    assert {"creditreport.approve", "creditreport.export", "creditreport.download"} <= actions
    assert "creditreport.submit" in actions


def test_correction_after_a_back_dated_replay(
    book, reporter, checker, finance, django_capture_on_commit_callbacks
):
    """February was reported with installment 1 overdue; a repayment valued 02-15 is posted
    later (倒起息): the replay's listener regenerates February, finds it changed and queues a
    correction that goes out with March's submission."""
    sub = services.submission_generate(month=FEB, actor=reporter)
    services.submission_approve(submission=sub, actor=checker)
    services.submission_export(submission=sub, writer="reference-text", actor=checker)
    services.submission_mark_submitted(submission=sub, actor=checker)
    inst = book.installments.get(period=1)
    with django_capture_on_commit_callbacks(execute=True):
        lending.repayment_post(
            loan=book,
            amount=Money.from_fen(inst.principal_due.fen + inst.interest_due.fen),
            received_on=D(2026, 2, 15),
            actor=finance,
        )
    fix = CreditRecord.objects.get(kind="correction")
    assert fix.submission is None and fix.month == FEB
    assert fix.corrects == sub.records.get()
    assert fix.status_string == "/" * 22 + "*N" and fix.account_status == "open"
    assert fix.balance.fen == 12_000_000 - inst.principal_due.fen
    assert {"balance", "overdue_periods", "status_string", "account_status"} <= set(fix.changed)
    assert AuditEntry.objects.filter(action="creditreport.correction").exists()
    # checking again finds nothing new (the queued correction is the baseline)
    again = services.corrections_for_loans(loan_ids=[book.pk], actor=reporter)
    assert again["corrections"] == 0 and CreditRecord.objects.filter(kind="correction").count() == 1
    march = services.submission_generate(month=MAR, actor=reporter)
    assert march.counts["corrections"] == 1
    fix.refresh_from_db()
    assert fix.submission == march
    assert march.records.get(kind="monthly").status_string.endswith("*N1")


def test_deletion_when_the_account_should_not_have_been_reported(book, reporter, checker):
    from credo.lending.models import Loan

    sub = services.submission_generate(month=FEB, actor=reporter)
    services.submission_approve(submission=sub, actor=checker)
    Loan.objects.filter(pk=book.pk).update(start_date=D(2026, 3, 2))
    counts = services.corrections_for_loans(loan_ids=[book.pk], actor=reporter)
    assert counts["deletions"] == 1
    gone = CreditRecord.objects.get(kind="deletion")
    assert gone.month == FEB and gone.account_number == book.number and gone.submission is None


def test_a_draft_is_refreshed_in_place(book, reporter, finance, django_capture_on_commit_callbacks):
    sub = services.submission_generate(month=FEB, actor=reporter)
    inst = book.installments.get(period=1)
    with django_capture_on_commit_callbacks(execute=True):
        lending.repayment_post(
            loan=book,
            amount=Money.from_fen(inst.principal_due.fen + inst.interest_due.fen),
            received_on=D(2026, 2, 15),
            actor=finance,
        )
    rec = sub.records.get()
    assert (
        rec.status_string.endswith("*N")
        and not CreditRecord.objects.filter(kind="correction").exists()
    )


def test_validation_errors_block_approval(book, reporter, checker, individual_data_factory):
    from credo.customers.models import Customer

    data = individual_data_factory(5)
    bad = data["id_number"][:17] + ("0" if data["id_number"][17] != "0" else "1")
    Customer.objects.filter(pk=book.customer_id).update(kind="individual")
    customer = Customer.objects.get(pk=book.customer_id)
    customer.id_number = bad
    customer.save(update_fields=["id_number"])
    sub = services.submission_generate(month=FEB, actor=reporter)
    rec = sub.records.get()
    assert rec.errors == [{"field": "id_number", "message": "身份证号校验位错误，请核对。"}]
    assert sub.error_count == 1
    with pytest.raises(InvalidState, match="1 条记录未通过校验"):
        services.submission_approve(submission=sub, actor=checker)


def test_after_close_generation_and_settings(book, monkeypatch):
    assert services.auto_generate() == {"generated": 1, "records": 1, "errors": 0}
    assert Submission.objects.get().month == MAR and Submission.objects.get().generated_by is None
    assert services.auto_generate() == {"generated": 0}
    close_months(D(2026, 4, 1))
    monkeypatch.setenv("CREDO_CREDITREPORT_AUTO", "0")
    assert services.auto_generate() == {"generated": 0}


def test_period_close_hook_generates_the_month(book, reporter):
    from credo.creditreport.listeners import on_period_closed

    on_period_closed(FEB)
    assert Submission.objects.filter(month=FEB, status="draft").count() == 1
    on_period_closed(FEB)  # idempotent
    assert Submission.objects.filter(month=FEB).count() == 1


def test_set_based_sums_equal_the_per_installment_path(book, make_loan, finance):
    """The book's loans in several shapes (overdue, part-paid, paid on time, settled): the
    set-based build and the exact per-installment build give the same records."""
    from credo.lending.books.models import AccountingPeriod

    AccountingPeriod.objects.all().delete()
    other = lending.loan_disburse(
        loan=make_loan(principal="60000", months=6), actor=finance, value_date=D(2026, 1, 20)
    )
    inst = other.installments.get(period=1)
    lending.repayment_post(
        loan=other,
        amount=Money.from_fen(inst.principal_due.fen + inst.interest_due.fen),
        received_on=D(2026, 2, 20),
        actor=finance,
    )
    lending.repayment_post(
        loan=book, amount=Money.from_fen(500_00), received_on=D(2026, 3, 31), actor=finance
    )
    from credo.creditreport.build import build_month

    for month in (D(2026, 1, 1), FEB, MAR, D(2026, 4, 1)):
        fast = build_month(month).rows
        exact = build_month(month, exact=True).rows
        assert fast == exact and len(fast) == 2
