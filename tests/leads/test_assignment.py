"""Assignment rules: region routing, named users, capacity, opt-out, round-robin fairness, and
bulk (import) assignment giving exactly the owners of one-by-one assignment."""

import copy
import datetime as dt
import json
from pathlib import Path

import pytest
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from credo.leads import services
from credo.leads.assignment import Planner, Slot
from credo.leads.models import Lead, LeadAssignee
from credo.rules import services as rules
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
JDM = Path(services.__file__).parents[1] / "decision_tables" / "assignment.json"


def test_shipped_decision_tests_pass():
    version = rules.published_version(services.DECISION_KEY)
    results = rules.run_tests(version)
    assert len(results) == 3 and all(r.passed for r in results)


def test_named_user_rule_and_fallback(owner, colleague, lead_data):
    content = json.loads(JDM.read_text("utf-8"))
    table = content["nodes"][1]["content"]
    named = copy.deepcopy(table["rules"][0])
    named.update(
        {
            "_id": "vip",
            "_description": "渠道推荐 → 张经理",
            "c1": "",
            "c2": "",
            "c4": '"channel"',
            "o1": '""',
            "o2": '"colleague"',
        }
    )
    table["rules"].insert(0, named)
    model = rules.ensure_model(services.DECISION_KEY)
    version = rules.version_create(model=model, actor=owner, content=content)
    rules.version_publish(version=version, actor=owner)
    lead = services.lead_create(actor=None, data=lead_data(1, source="channel"))
    assert lead.owner == colleague and lead.assignment_info["note"] == "user"
    assert lead.assignment_version.number == 2
    # Named user at the cap → round robin in the user's own team.
    LeadAssignee.objects.create(user=colleague, max_open=1)
    lead2 = services.lead_create(actor=None, data=lead_data(2, source="channel"))
    assert lead2.owner == owner and lead2.assignment_info["note"] == "user_unavailable"


def test_round_robin_fair_over_time(org, manager_role, lead_data):
    users = [
        UserFactory(username=f"m{i}", org_unit=org["team_a"], roles=[manager_role])
        for i in range(3)
    ]
    leads = [services.lead_create(actor=None, data=lead_data(i)) for i in range(9)]
    counts = {u.pk: sum(1 for lead in leads if lead.owner_id == u.pk) for u in users}
    assert sorted(counts.values()) == [3, 3, 3]
    # Order: lowest id first, then least recently assigned.
    assert [lead.owner_id for lead in leads[:3]] == [u.pk for u in users]


def test_recent_window_counts_only_last_24h(org, manager_role, lead_data):
    a = UserFactory(username="a", org_unit=org["team_a"], roles=[manager_role])
    b = UserFactory(username="b", org_unit=org["team_a"], roles=[manager_role])
    old = services.lead_create(actor=None, data=lead_data(1), owner=a)
    Lead.objects.filter(pk=old.pk).update(assigned_at=timezone.now() - dt.timedelta(hours=30))
    recent = services.lead_create(actor=None, data=lead_data(2), owner=b)
    assert recent.owner == b
    # a: 0 in 24 h, b: 1 → a.
    assert services.lead_create(actor=None, data=lead_data(3)).owner == a


@given(
    slots=st.lists(
        st.tuples(st.integers(0, 5), st.integers(0, 3), st.integers(0, 4), st.booleans()),
        min_size=1,
        max_size=6,
    ),
    n=st.integers(1, 30),
)
def test_planner_fairness_property(slots, n):
    """Never over a cap, never an opted-out user, and among users without a cap the spread of
    (recent + assigned now) never grows beyond max(1, initial spread)."""
    planner = Planner()
    for i, (recent, open_, cap, active) in enumerate(slots):
        planner.slots[i] = Slot(i, 1, recent=recent, open=open_, cap=cap, active=active)
    planner.members[1] = list(planner.slots)
    base = timezone.now()
    for k in range(n):
        uid, _note = planner.choose(team_id=1)
        if uid is None:
            assert not any(s.available for s in planner.slots.values())
            break
        chosen = planner.slots[uid]
        assert chosen.available
        assert chosen.recent == min(s.recent for s in planner.slots.values() if s.available)
        planner.commit(uid, base + dt.timedelta(seconds=k))
    for i, (_r, open_, cap, active) in enumerate(slots):
        s = planner.slots[i]
        if not active:
            assert s.open == open_
        if cap:
            assert s.open <= max(cap, open_)


REGIONS = ["140105", "140213", "140107", "110101", ""]
KINDS = ["operating", "mortgage", "consumer", ""]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    members=st.lists(
        st.tuples(
            st.sampled_from(["team_a", "team_b", "team_c"]),
            st.integers(0, 3),  # cap
            st.booleans(),  # active
            st.integers(0, 2),  # prior leads
        ),
        min_size=1,
        max_size=6,
    ),
    leads=st.lists(
        st.tuples(st.sampled_from(REGIONS), st.sampled_from(KINDS), st.integers(0, 8_000_000)),
        min_size=1,
        max_size=15,
    ),
)
def test_bulk_equals_sequential(org, manager_role, members, leads):
    rules.published_version(services.DECISION_KEY)
    with transaction.atomic():
        now = timezone.now()
        for i, (team, cap, active, prior) in enumerate(members):
            user = UserFactory(username=f"h{i}", org_unit=org[team], roles=[manager_role])
            LeadAssignee.objects.create(user=user, max_open=cap, active=active)
            for j in range(prior):
                Lead.objects.create(
                    name="prior",
                    phone=f"1370000{i}{j:03d}",
                    source="other",
                    owner=user,
                    assigned_at=now - dt.timedelta(hours=10 * (j + 1) + i),
                )
        created = [
            Lead.objects.create(
                name=f"L{k}",
                phone=f"1390000{k:04d}",
                source="online",
                region_code=region,
                business_type=kind,
                requested_amount=amount * 100 if amount else None,
            )
            for k, (region, kind, amount) in enumerate(leads)
        ]
        with transaction.atomic():
            one_by_one = [services.lead_assign(lead=lead).owner_id for lead in created]
            transaction.set_rollback(True)
        fresh = list(Lead.objects.filter(pk__in=[lead.pk for lead in created]).order_by("id"))
        assert all(lead.owner_id is None for lead in fresh)
        services.leads_assign_bulk(leads=fresh)
        bulk = [lead.owner_id for lead in fresh]
        stored = list(
            Lead.objects.filter(pk__in=[lead.pk for lead in created])
            .order_by("id")
            .values_list("owner_id", flat=True)
        )
        assert bulk == one_by_one == stored
        transaction.set_rollback(True)
