"""Cases opened, re-tiered and closed by EOD; idempotent; broken promises; reminders."""

from __future__ import annotations

import datetime as dt

import pytest

from credo.collections import services
from credo.collections.models import (
    CollectionCase,
    LawyerLetter,
    PromiseToPay,
    ReminderLog,
    ReminderPolicy,
)
from credo.collections.services import cases as cases_module
from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.core.todo.models import Todo
from credo.customers.models import CustomerEvent
from credo.lending import eod
from credo.lending import services as lending_services
from credo.lending.models import Installment, Loan

pytestmark = pytest.mark.django_db
D = dt.date


def case_of(loan):
    return CollectionCase.objects.get(loan=loan)


def test_eod_opens_retiers_and_closes_a_case(loan, junior, senior, finance):
    eod.run_eod(D(2026, 2, 15))  # due, not overdue yet
    assert not CollectionCase.objects.exists()
    eod.run_eod(D(2026, 2, 16))  # 1 day overdue → automatic SMS tier
    case = case_of(loan)
    assert (case.tier, case.status, case.dpd, case.assignee) == ("sms", "open", 1, junior)
    assert case.strategy_version is not None and case.reasons
    assert CustomerEvent.objects.filter(
        customer=loan.customer, kind="collection", title__contains="立案"
    ).exists()
    eod.run_eod(D(2026, 2, 19))  # 4 days → call task for the junior collector with the script
    case.refresh_from_db()
    assert (case.tier, case.dpd) == ("call_junior", 4)
    todo = Todo.objects.get(user=junior, dedupe_key=f"collections:case:{case.pk}")
    assert "核实身份" in todo.description and todo.status == "open"
    eod.run_eod(D(2026, 2, 26))  # 11 days → senior + lawyer's letter
    case.refresh_from_db()
    assert (case.tier, case.status, case.assignee) == ("senior_letter", "escalated", senior)
    assert LawyerLetter.objects.filter(case=case).count() == 1
    assert Todo.objects.filter(user=senior, dedupe_key=f"collections:case:{case.pk}").exists()
    # pay everything due → cured at the next EOD → case closed (paid)
    inst = loan.installments.get(period=1)
    owed = inst.principal_due + inst.interest_due + inst.fee_due + inst.penalty_due
    lending_services.repayment_post(
        loan=loan, amount=owed, received_on=D(2026, 2, 26), actor=finance
    )
    loan.refresh_from_db()
    eod.run_eod(D(2026, 2, 27))
    case.refresh_from_db()
    assert (case.status, case.close_reason) == ("closed", "paid")
    assert not Todo.objects.filter(
        user=senior, dedupe_key=f"collections:case:{case.pk}", status="open"
    ).exists()


def test_refresh_is_idempotent_and_one_open_case_per_loan(loan, junior):
    eod.run_eod(D(2026, 2, 20))
    assert CollectionCase.objects.count() == 1
    events = CustomerEvent.objects.filter(kind="collection").count()
    todos = Todo.objects.count()
    counts = services.cases_refresh(D(2026, 2, 20))
    assert counts["opened"] == counts["retiered"] == counts["closed"] == 0
    assert CollectionCase.objects.count() == 1
    assert CustomerEvent.objects.filter(kind="collection").count() == events
    assert Todo.objects.count() == todos
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        CollectionCase.objects.create(
            loan=loan, customer=loan.customer, tier="sms", opened_on=D(2026, 2, 20)
        )


def test_written_off_loan_closes_case(loan, junior):
    eod.run_eod(D(2026, 2, 20))
    Loan.objects.filter(pk=loan.pk).update(status="written_off")
    services.cases_refresh(D(2026, 2, 21))
    case = case_of(loan)
    assert (case.status, case.close_reason) == ("closed", "written_off")


def test_round_robin_by_workload(make_loan, finance, junior, junior2):
    from credo.lending import services as ls

    loans = [
        ls.loan_disburse(loan=make_loan(), actor=finance, value_date=D(2026, 1, 15))
        for _ in range(4)
    ]
    eod.run_eod(D(2026, 2, 20))
    per = {u: CollectionCase.objects.filter(assignee=u).count() for u in (junior, junior2)}
    assert per == {junior: 2, junior2: 2}
    assert len(loans) == 4


def test_broken_promise_flagged_and_reprioritised(loan, junior, finance):
    eod.run_eod(D(2026, 2, 20))
    case = case_of(loan)
    promise = services.promise_create(
        case=case,
        promised_date=D(2026, 2, 22),
        amount=Money("5000"),
        actor=junior,
        today=D(2026, 2, 20),
    )
    case.refresh_from_db()
    assert case.status == "promised"
    before = case.priority
    lending_services.repayment_post(
        loan=loan, amount=Money("100"), received_on=D(2026, 2, 21), actor=finance
    )
    eod.run_eod(D(2026, 2, 22))  # promise date not passed yet
    promise.refresh_from_db()
    assert promise.status == "pending"
    eod.run_eod(D(2026, 2, 23))
    promise.refresh_from_db()
    case.refresh_from_db()
    assert promise.status == "broken" and promise.paid_amount == Money("100")
    assert case.broken_promises == 1 and case.status == "open"
    assert case.priority > before
    assert AuditEntry.objects.filter(action="collections.promise_broken").count() == 1


def test_kept_promise(loan, junior, finance):
    eod.run_eod(D(2026, 2, 20))
    case = case_of(loan)
    promise = services.promise_create(
        case=case,
        promised_date=D(2026, 2, 21),
        amount=Money("50"),
        actor=junior,
        today=D(2026, 2, 20),
    )
    lending_services.repayment_post(
        loan=loan, amount=Money("100"), received_on=D(2026, 2, 21), actor=finance
    )
    services.promises_check(D(2026, 2, 22))
    promise.refresh_from_db()
    assert promise.status == "kept"


def test_promise_bad_input_changes_nothing(loan, junior):
    from credo.collections.errors import InvalidInput

    eod.run_eod(D(2026, 2, 20))
    case = case_of(loan)
    for kwargs in (
        {"promised_date": D(2026, 2, 19), "amount": Money("10")},
        {"promised_date": D(2026, 2, 21), "amount": Money("0")},
        {"promised_date": D(2026, 6, 1), "amount": Money("10")},
    ):
        with pytest.raises(InvalidInput):
            services.promise_create(case=case, actor=junior, today=D(2026, 2, 20), **kwargs)
    assert not PromiseToPay.objects.exists()
    case.refresh_from_db()
    assert case.status == "open"


def test_reminders_never_twice(loan):
    # installment 1 due 2026-02-15: offsets 3, 1, 0 → 02-12, 02-14, 02-15
    assert services.reminders_send(D(2026, 2, 11)) == 0
    assert services.reminders_send(D(2026, 2, 12)) == 1
    assert services.reminders_send(D(2026, 2, 12)) == 0
    assert services.reminders_send(D(2026, 2, 14)) == 1
    assert services.reminders_send(D(2026, 2, 15)) == 1
    assert services.reminders_send(D(2026, 2, 15)) == 0
    inst = loan.installments.get(period=1)
    assert sorted(
        ReminderLog.objects.filter(installment=inst).values_list("offset", flat=True)
    ) == [0, 1, 3]


def test_reminder_policy_per_product(loan):
    ReminderPolicy.objects.create(product=loan.product_version.product, offsets=[5])
    assert services.reminders_send(D(2026, 2, 12)) == 0  # 3 days before: not in the policy
    assert services.reminders_send(D(2026, 2, 10)) == 1  # 5 days before
    assert services.reminders_due(D(2026, 2, 10)) == []


def test_paid_installment_gets_no_reminder(loan):
    Installment.objects.filter(loan=loan, period=1).update(status="paid")
    assert services.reminders_send(D(2026, 2, 12)) == 0


def test_reminder_goes_through_notify_once(loan):
    from credo.notify.models import Message

    borrower = loan.customer
    borrower.phone = "13800138000"
    borrower.save()
    inst = loan.installments.get(period=1)
    services.reminders_send(D(2026, 2, 12))
    services.reminders_send(D(2026, 2, 12))
    msgs = Message.objects.filter(dedupe_key=f"reminder:{inst.pk}:3")
    assert msgs.count() >= 1
    assert all(m.category == "service" for m in msgs)
    assert ReminderLog.objects.get(installment=inst, offset=3).sent


def test_overdue_sms_uses_collection_category(loan, junior):
    from credo.notify.models import Message

    borrower = loan.customer
    borrower.phone = "13800138000"
    borrower.save()
    eod.run_eod(D(2026, 2, 16))
    case = case_of(loan)
    msgs = Message.objects.filter(dedupe_key=f"collection:{case.pk}:sms")
    assert msgs.exists() and all(m.category == "collection" for m in msgs)


def test_many_new_call_cases_give_one_digest_todo(make_loan, finance, junior, monkeypatch):
    from credo.lending import services as ls

    monkeypatch.setattr(cases_module, "TODO_DIGEST_OVER", 1)
    for _ in range(2):
        ls.loan_disburse(loan=make_loan(), actor=finance, value_date=D(2026, 1, 15))
    eod.run_eod(D(2026, 2, 20))  # both 5 days overdue, both assigned to the only junior
    todos = Todo.objects.filter(user=junior, source="collections")
    assert todos.count() == 1 and "2 件" in todos.get().title
