"""credo.core.bulk: the JSON-recordset bulk update (PostgreSQL) and its bulk_update fallback."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credo.core.bulk import json_bulk_update
from credo.customers.models import CustomerEvent
from tests.lending.conftest import borrower  # noqa: F401 — fixture

pytestmark = pytest.mark.django_db


def _events(customer, n: int) -> list[CustomerEvent]:
    return CustomerEvent.objects.bulk_create(
        [
            CustomerEvent(
                customer=customer,
                kind=CustomerEvent.Kind.OTHER,
                occurred_at=timezone.now(),
                title=f"事件 {i}",
                detail={"n": i},
                source="test",
            )
            for i in range(n)
        ]
    )


def test_writes_only_the_named_fields_of_each_row(borrower, owner):  # noqa: F811
    events = _events(borrower, 3)
    for i, e in enumerate(events):
        e.title = f"改 {i}：含'引号'与\\反斜杠"
        e.detail = {"n": i, "list": [1, "二", None], "nested": {"ok": True}}
        e.actor = owner if i != 1 else None
        e.source = "not written"
    with CaptureQueriesContext(connection) as q:
        assert json_bulk_update(events, ["title", "detail", "actor"]) == 3
    if connection.vendor == "postgresql":
        assert len(q.captured_queries) == 1
    for i, e in enumerate(
        CustomerEvent.objects.filter(pk__in=[x.pk for x in events]).order_by("pk")
    ):
        assert e.title == f"改 {i}：含'引号'与\\反斜杠"
        assert e.detail == {"n": i, "list": [1, "二", None], "nested": {"ok": True}}
        assert e.actor_id == (owner.pk if i != 1 else None)
        assert e.source == "test"  # not among the fields


def test_nothing_to_write_runs_no_query():
    with CaptureQueriesContext(connection) as q:
        assert json_bulk_update([], ["title"]) == 0
    assert not q.captured_queries
