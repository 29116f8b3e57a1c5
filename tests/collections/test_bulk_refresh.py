"""The set-based after-close batch (issue 19): grouped overdue amounts, re-runs for the same date,
cures, tier changes, bulk messages and todos, and a query count that does not grow with the
number of cases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credo.collections import services
from credo.collections.models import CollectionCase, LawyerLetter
from credo.collections.services import cases as cases_module
from credo.collections.tasks import on_eod_done
from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.core.todo.models import Todo
from credo.customers.models import Customer, CustomerEvent
from credo.lending.models import Installment, Loan
from credo.notify.models import Message

pytestmark = pytest.mark.django_db
DAY = dt.date(2026, 3, 10)


@pytest.fixture
def book(owner, org, product_version):
    """``make(dpds, phone=True)`` → loans, one customer each, written in bulk: per loan one
    overdue installment (due ``dpd`` days before DAY), one due on DAY, one scheduled."""
    seq = {"n": 0}

    def make(dpds, *, phone=True, principal_fen=10_000_000):
        start = seq["n"]
        seq["n"] += len(dpds)
        customers = Customer.objects.bulk_create(
            [
                Customer(
                    kind="individual",
                    name=f"催收客户{start + i}",
                    phone=f"138{start + i:08d}" if phone else "",
                    owner=owner,
                    team=org["team_a"],
                    branch=org["b1"],
                )
                for i in range(len(dpds))
            ]
        )
        loans = Loan.objects.bulk_create(
            [
                Loan(
                    number=f"C{start + i:06d}",
                    customer=c,
                    product_version=product_version,
                    principal=Money.from_fen(principal_fen),
                    annual_rate=Decimal("12"),
                    months=3,
                    method="equal_principal",
                    penalty_multiplier=Decimal("1.5"),
                    status="overdue" if dpd else "active",
                    dpd=dpd,
                    start_date=DAY - dt.timedelta(days=60),
                    maturity_date=DAY + dt.timedelta(days=60),
                    outstanding_principal=Money.from_fen(principal_fen),
                    owner=owner,
                    team=org["team_a"],
                    branch=org["b1"],
                    created_by=owner,
                )
                for i, (c, dpd) in enumerate(zip(customers, dpds, strict=True))
            ]
        )
        part = principal_fen // 3
        Installment.objects.bulk_create(
            [
                Installment(
                    loan=loan,
                    period=p,
                    due_date=due,
                    principal_due=Money.from_fen(part),
                    interest_due=Money.from_fen(10_000),
                    penalty_due=Money.from_fen(500 * loan.dpd if p == 1 else 0),
                    status=st_,
                )
                for loan in loans
                for p, due, st_ in (
                    (1, DAY - dt.timedelta(days=max(loan.dpd, 1)), "overdue"),
                    (2, DAY, "due"),
                    (3, DAY + dt.timedelta(days=30), "scheduled"),
                )
            ]
        )
        return loans

    return make


def set_dpd(loans, dpd):
    Loan.objects.filter(pk__in=[x.pk for x in loans]).update(
        dpd=dpd, status="overdue" if dpd else "active"
    )


def keys(case_ids, suffix="sms"):
    return [f"collection:{pk}:{suffix}" for pk in case_ids]


# --- grouped overdue amounts ---------------------------------------------------------------------
INSTALLMENT = st.tuples(
    st.sampled_from(["scheduled", "due", "overdue", "paid", "written_off"]),
    st.integers(0, 100_000),  # principal due
    st.integers(0, 100),  # share paid, percent
    st.integers(0, 5_000),  # penalty due
    st.integers(0, 2_000),  # fee due
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(schedules=st.lists(st.lists(INSTALLMENT, min_size=0, max_size=5), min_size=1, max_size=6))
def test_grouped_overdue_amounts_equal_per_loan(book, schedules):
    with transaction.atomic():
        loans = book([3] * len(schedules))
        Installment.objects.filter(loan__in=loans).delete()
        rows = []
        for loan, schedule in zip(loans, schedules, strict=True):
            for period, (status, principal, share, penalty, fee) in enumerate(schedule, 1):
                rows.append(
                    Installment(
                        loan=loan,
                        period=period,
                        due_date=DAY + dt.timedelta(days=period),
                        principal_due=Money.from_fen(principal),
                        principal_paid=Money.from_fen(principal * share // 100),
                        interest_due=Money.from_fen(principal // 10),
                        interest_paid=Money.from_fen(principal // 10 * share // 100),
                        penalty_due=Money.from_fen(penalty),
                        penalty_paid=Money.from_fen(penalty * share // 200),
                        fee_due=Money.from_fen(fee),
                        status=status,
                    )
                )
        Installment.objects.bulk_create(rows)
        grouped = services.overdue_amounts([x.pk for x in loans])
        for loan in loans:
            assert grouped.get(loan.pk, 0) == services.overdue_amount(loan)
        transaction.set_rollback(True)


# --- re-runs, cures, tier changes --------------------------------------------------------------------
def test_rerun_for_the_same_date_creates_nothing_and_sends_nothing(book, junior, senior):
    loans = book([2, 2, 5, 15, 40])  # sms, sms, call, senior letter, legal
    first = on_eod_done(SimpleNamespace(business_date=DAY))
    assert first["opened"] == 5
    cases = {c.loan_id: c for c in CollectionCase.objects.all()}
    sms_keys = keys(cases[x.pk].pk for x in loans[:2])
    assert Message.objects.filter(dedupe_key__in=sms_keys).count() >= 2
    assert first["messages_queued"] + first["messages_failed"] + first["messages_suppressed"] >= 2
    assert first["todos_created"] == 2 and first["letters_created"] == 1
    before = (
        Message.objects.count(),
        CustomerEvent.objects.count(),
        Todo.objects.count(),
        LawyerLetter.objects.count(),
        AuditEntry.objects.filter(action="collections.cases_refreshed").count(),
    )
    again = on_eod_done(SimpleNamespace(business_date=DAY))
    assert again["opened"] == again["retiered"] == again["closed"] == 0
    assert again["messages_queued"] == again["todos_created"] == again["letters_created"] == 0
    after = (
        Message.objects.count(),
        CustomerEvent.objects.count(),
        Todo.objects.count(),
        LawyerLetter.objects.count(),
        AuditEntry.objects.filter(action="collections.cases_refreshed").count(),
    )
    assert after == before
    assert CollectionCase.objects.count() == 5


def test_one_audit_entry_per_run_with_the_counts(book, junior):
    book([2] * 12)
    counts = services.cases_refresh(DAY)
    entry = AuditEntry.objects.get(action="collections.cases_refreshed")
    assert entry.metadata["opened"] == counts["opened"] == 12
    assert entry.metadata["messages_queued"] == counts["messages_queued"]
    # the batch's messages and todos write no audit row each
    assert not AuditEntry.objects.filter(action__in=("todo.create", "notify.suppressed")).exists()


def test_a_cured_loan_closes_its_case_and_cancels_the_call_todo(book, junior):
    (loan,) = book([6])
    services.cases_refresh(DAY)
    case = CollectionCase.objects.get(loan=loan)
    todo = Todo.objects.get(user=junior, dedupe_key=f"collections:case:{case.pk}")
    assert todo.status == "open"
    set_dpd([loan], 0)
    counts = services.cases_refresh(DAY + dt.timedelta(days=1))
    case.refresh_from_db()
    todo.refresh_from_db()
    assert (case.status, case.close_reason) == ("closed", "paid")
    assert todo.status == "cancelled"
    assert counts["closed"] == 1 and counts["todos_cancelled"] == 1
    assert CustomerEvent.objects.filter(
        customer_id=loan.customer_id, title__contains="结案"
    ).exists()
    assert services.cases_refresh(DAY + dt.timedelta(days=1))["closed"] == 0


def test_tier_change_moves_the_case_and_notifies_once(book, junior):
    (loan,) = book([5])
    services.cases_refresh(DAY)
    case = CollectionCase.objects.get(loan=loan)
    assert case.tier == "call_junior"
    assert not Message.objects.filter(dedupe_key__in=keys([case.pk])).exists()
    set_dpd([loan], 2)  # a partial payment: back to the SMS tier
    day = DAY + dt.timedelta(days=1)
    counts = services.cases_refresh(day)
    case.refresh_from_db()
    assert case.tier == "sms" and counts["retiered"] == 1
    messages = Message.objects.filter(dedupe_key__in=keys([case.pk]))
    kinds = sorted(messages.values_list("kind", flat=True))
    assert kinds and len(kinds) == len(set(kinds))  # one message per channel kind
    assert "逾期 2 天" in messages.first().body
    # the amount is the grouped overdue amount of the loan
    assert messages.first().params["amount"] == cases_module.format_fen(
        services.overdue_amount(loan)
    )
    again = services.cases_refresh(day)
    assert again["retiered"] == again["messages_queued"] == 0
    assert messages.count() == len(kinds)


def test_escalation_moves_the_todo_to_the_senior_collector(book, junior, senior):
    (loan,) = book([5])
    services.cases_refresh(DAY)
    case = CollectionCase.objects.get(loan=loan)
    assert case.assignee == junior
    set_dpd([loan], 12)
    counts = services.cases_refresh(DAY + dt.timedelta(days=1))
    case.refresh_from_db()
    assert (case.tier, case.status, case.assignee) == ("senior_letter", "escalated", senior)
    key = f"collections:case:{case.pk}"
    assert Todo.objects.get(user=junior, dedupe_key=key).status == "cancelled"
    assert Todo.objects.get(user=senior, dedupe_key=key).status == "open"
    assert LawyerLetter.objects.filter(case=case).count() == 1
    assert counts["todos_cancelled"] == counts["todos_created"] == counts["letters_created"] == 1


def test_a_cancelled_todo_is_reopened_when_the_case_needs_a_call_again(book, junior):
    (loan,) = book([5])
    services.cases_refresh(DAY)
    case = CollectionCase.objects.get(loan=loan)
    set_dpd([loan], 2)
    services.cases_refresh(DAY + dt.timedelta(days=1))
    todo = Todo.objects.get(user=junior, dedupe_key=f"collections:case:{case.pk}")
    Todo.objects.filter(pk=todo.pk).update(status="cancelled")
    set_dpd([loan], 7)
    counts = services.cases_refresh(DAY + dt.timedelta(days=2))
    todo.refresh_from_db()
    assert todo.status == "open" and "逾期 7 天" in todo.title
    assert counts["todos_updated"] == 1 and counts["todos_created"] == 0


def test_do_not_contact_customer_gets_no_sms(book, junior):
    from credo.collections.models import DoNotContact

    (loan,) = book([2])
    DoNotContact.objects.create(customer_id=loan.customer_id, reason="投诉", actor=junior)
    counts = services.cases_refresh(DAY)
    case = CollectionCase.objects.get(loan=loan)
    assert counts["messages_dnc"] == 1
    assert not Message.objects.filter(dedupe_key__in=keys([case.pk])).exists()


def test_digest_todo_in_bulk(book, junior, monkeypatch):
    monkeypatch.setattr(cases_module, "TODO_DIGEST_OVER", 3)
    book([5] * 4)
    counts = services.cases_refresh(DAY)
    todos = Todo.objects.filter(user=junior, source="collections")
    assert todos.count() == 1 and "4 件" in todos.get().title
    assert counts["todos_created"] == 1


# --- query count ---------------------------------------------------------------------------------
def _queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


TIERS = [2, 5, 15, 40]  # sms, call, senior letter, legal


def test_query_count_does_not_grow_with_the_number_of_cases(book, junior, senior):
    small = book([TIERS[i % 4] for i in range(10)])
    q_open_small = _queries(lambda: services.cases_refresh(DAY))
    large = book([TIERS[i % 4] for i in range(200)])
    q_open_large = _queries(lambda: services.cases_refresh(DAY))
    assert CollectionCase.objects.count() == 210
    assert q_open_large <= q_open_small + 2, (q_open_small, q_open_large)

    # re-tier half, cure half: 10 cases, then 200 cases
    def move(loans):
        half = len(loans) // 2
        for i, loan in enumerate(loans[:half]):
            set_dpd([loan], TIERS[(i + 1) % 4])
        set_dpd(loans[half:], 0)

    move(small)
    q_move_small = _queries(lambda: services.cases_refresh(DAY + dt.timedelta(days=1)))
    move(large)
    q_move_large = _queries(lambda: services.cases_refresh(DAY + dt.timedelta(days=2)))
    assert CollectionCase.objects.filter(status="closed").count() == 105
    assert q_move_large <= q_move_small + 2, (q_move_small, q_move_large)


def test_dpd_amount_and_priority_follow_the_loan_and_a_rerun_writes_nothing(book, junior):
    (loan,) = book([5])
    services.cases_refresh(DAY)
    Loan.objects.filter(pk=loan.pk).update(dpd=6, outstanding_principal=Money.from_fen(5_000_000))
    counts = services.cases_refresh(DAY + dt.timedelta(days=1))
    case = CollectionCase.objects.get(loan=loan)
    assert (case.dpd, case.amount.fen, case.priority) == (6, 5_000_000, 6 * 5_000_000)
    assert counts["updated"] == 1
    assert services.cases_refresh(DAY + dt.timedelta(days=1))["updated"] == 0
