"""Visit check-ins: timeline, idempotent sync, scope, the staff counts and report dataset."""

from __future__ import annotations

import uuid

import pytest

from credo.customers.models import CustomerEvent
from credo.fieldwork import selectors, services
from credo.fieldwork.errors import InvalidSubmission, NotPermitted
from credo.fieldwork.models import FieldPhoto, Visit

pytestmark = pytest.mark.django_db


def test_check_in_on_the_timeline(customer_factory, am, photo):
    c = customer_factory()
    visit, created = services.visit_record(
        actor=am,
        customer=c,
        purpose="post_loan",
        notes="回访，经营正常",
        location={"latitude": "37.8", "longitude": "112.5", "located_at": "2026-06-15T03:00:00Z"},
        photos=[photo()],
        client_uuid=str(uuid.uuid4()),
    )
    assert created
    assert visit.owner == am
    assert visit.team is not None
    assert visit.visited_at.isoformat() == "2026-06-15T03:00:00+00:00"
    assert FieldPhoto.objects.get().visit == visit
    ev = CustomerEvent.objects.get(customer=c, source="fieldwork")
    assert ev.kind == "follow_up"
    assert ev.title == "走访签到（贷后回访）：回访，经营正常"


def test_sync_twice_records_once(customer_factory, am, photo):
    c = customer_factory()
    key = str(uuid.uuid4())
    a, _ = services.visit_record(
        actor=am, customer=c, purpose="other", client_uuid=key, photos=[photo()]
    )
    b, created = services.visit_record(
        actor=am, customer=c, purpose="other", client_uuid=key, photos=[photo()]
    )
    assert a.pk == b.pk and not created
    assert Visit.objects.count() == 1
    assert FieldPhoto.objects.count() == 1


def test_purpose_required_and_scope(customer_factory, am, outsider_am):
    c = customer_factory()
    with pytest.raises(InvalidSubmission) as exc:
        services.visit_record(actor=am, customer=c, purpose="")
    assert exc.value.errors == {"purpose": "请选择走访目的。"}
    with pytest.raises(NotPermitted):
        services.visit_record(actor=outsider_am, customer=c, purpose="other")
    assert not Visit.objects.exists()


def test_counts_per_member(customer_factory, am, am2):
    c1, c2 = customer_factory(), customer_factory(owner=am2)
    for _ in range(2):
        services.visit_record(actor=am, customer=c1, purpose="marketing")
    services.visit_record(
        actor=am2,
        customer=c2,
        purpose="marketing",
        location={"latitude": "37.8", "longitude": "112.5"},
    )
    rows = selectors.visit_counts(Visit.objects.all())
    assert rows == [
        {"owner_id": am.pk, "name": "张经理", "visits": 2, "customers": 1, "located": 0},
        {"owner_id": am2.pk, "name": "李经理", "visits": 1, "customers": 1, "located": 1},
    ]
    # own scope: a manager sees only their own visits
    assert selectors.visits_for(am).count() == 2


def test_report_dataset(customer_factory, am, settings):
    from credo.reports.datasets import run_query

    c = customer_factory()
    services.visit_record(actor=am, customer=c, purpose="marketing")
    services.visit_record(actor=am, customer=c, purpose="post_loan")
    result = run_query(
        am,
        {
            "dataset": "fieldwork_visits",
            "dimensions": ["owner"],
            "measures": ["count", "customers"],
        },
    )
    assert [(r["owner"], r["count"], r["customers"]) for r in result.rows] == [(am.pk, 2, 1)]


def test_customer_site_from_a_visit_location(customer_factory, am):
    c = customer_factory()
    site = services.customer_site_set(
        customer=c, latitude="37.87", longitude="112.55", actor=am, source="visit"
    )
    assert str(site.latitude) == "37.870000"
    v, _ = services.visit_record(
        actor=am, customer=c, purpose="other", location={"latitude": "37.87", "longitude": "112.56"}
    )
    assert v.distance_m == 878
