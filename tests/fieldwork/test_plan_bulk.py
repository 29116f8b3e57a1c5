"""The plan job is set-based: queries do not grow with the loans, one audit row per run."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from credo.core.audit.models import AuditEntry
from credo.core.todo.models import Todo
from credo.fieldwork import services
from credo.fieldwork.models import Inspection
from tests.fieldwork.conftest import DAY

pytestmark = pytest.mark.django_db


def _plan_queries(customer_factory, loan_factory, n: int) -> int:
    Inspection.objects.all().delete()
    Todo.objects.filter(source="fieldwork").delete()
    for _ in range(n):
        loan_factory(customer_factory())
    with CaptureQueriesContext(connection) as ctx:
        counts = services.plan_inspections(DAY)
    assert counts["created"] == Inspection.objects.count()
    return len(ctx.captured_queries)


def test_planning_5_or_50_loans_takes_the_same_number_of_queries(customer_factory, loan_factory):
    if connection.vendor != "postgresql":
        # SQLite's bound-variable limit splits the JSON bulk inserts into more statements
        pytest.skip("the production path (one statement per 5,000 rows) is PostgreSQL's")
    services.plan_inspections(DAY)  # installs the shipped decision version (first use only)
    few = _plan_queries(customer_factory, loan_factory, 5)
    many = _plan_queries(customer_factory, loan_factory, 45)  # 50 open loans then
    assert Inspection.objects.count() == 50
    assert few == many


def test_one_summary_audit_row_per_run(customer_factory, loan_factory, am):
    for _ in range(4):
        loan_factory(customer_factory())
    services.plan_inspections(DAY - dt.timedelta(days=30))  # installs the decision, plans none
    before = AuditEntry.objects.count()
    counts = services.plan_inspections(DAY)
    assert counts == {"created": 4, "cancelled": 0, "evaluated": 1}
    rows = list(AuditEntry.objects.order_by("id")[before:])
    assert [r.action for r in rows] == ["fieldwork.inspections_planned"]
    meta = rows[0].metadata
    assert meta["created"] == 4
    assert meta["evaluated"] == 1
    assert meta["first"] == 4
    assert meta["business_date"] == DAY.isoformat()
    ids = list(Inspection.objects.values_list("pk", flat=True))
    assert (meta["first_id"], meta["last_id"]) == (min(ids), max(ids))
    todos = Todo.objects.filter(user=am, source="fieldwork")
    assert todos.count() == 4
    assert {t.dedupe_key for t in todos} == {services.todo_key(pk) for pk in ids}
    # a re-run of the date writes nothing, not even an audit row
    assert services.plan_inspections(DAY)["created"] == 0
    assert AuditEntry.objects.count() == before + 1


def test_inactive_owner_hands_the_inspection_to_the_customer_owner(
    customer_factory, loan_factory, am, am2
):
    loan = loan_factory(customer_factory(), owner=am2)
    am2.is_active = False
    am2.save(update_fields=["is_active"])
    services.plan_inspections(DAY)
    insp = Inspection.objects.get(loan=loan)
    assert insp.assignee == am  # the customer's owner
    assert insp.owner == am2
    assert Todo.objects.filter(user=am, dedupe_key=services.todo_key(insp.pk)).exists()


def test_a_concurrent_run_that_planned_a_loan_first_is_respected(
    customer_factory, loan_factory, monkeypatch
):
    """The candidates were read before another run planned one of them: the bulk insert hits
    the one-open-per-loan index and the chunk is re-done without that loan."""
    loans = [loan_factory(customer_factory()) for _ in range(3)]
    read = services._candidates()
    services.plan_inspections(DAY)  # the "other" run plans all three …
    Inspection.objects.filter(loan=loans[2]).update(status=Inspection.Status.CANCELLED)
    monkeypatch.setattr(services, "_candidates", lambda: read)
    counts = services.plan_inspections(DAY + dt.timedelta(days=1))
    assert counts["created"] == 1  # … only the loan without an open inspection is planned again
    assert Inspection.objects.filter(status="planned").count() == 3
    assert Inspection.objects.filter(loan=loans[2], status="planned").count() == 1
