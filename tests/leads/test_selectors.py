import datetime as dt

import pytest
from django.utils import timezone

from credo.leads import selectors, services
from credo.leads.models import Lead

pytestmark = pytest.mark.django_db


def test_funnel_by_source_and_week(owner, colleague, admin_user, lead_data):
    a = services.lead_create(actor=owner, data=lead_data(1, source="online"), owner=owner)
    b = services.lead_create(actor=owner, data=lead_data(2, source="online"), owner=owner)
    c = services.lead_create(actor=owner, data=lead_data(3, source="event"), owner=colleague)
    services.followup_add(lead=a, actor=owner, kind="call", outcome="接通")
    services.lead_change_stage(lead=a, stage="qualified", actor=owner)
    services.lead_change_stage(lead=b, stage="lost", actor=owner, reason="无需求")
    services.lead_change_stage(lead=c, stage="qualified", actor=owner)  # implies contacted
    rows = {r["key"]: r for r in selectors.funnel(admin_user, group_by="source")}
    assert rows["online"]["total"] == 2 and rows["online"]["contacted"] == 1
    assert rows["online"]["qualified"] == 1 and rows["online"]["lost"] == 1
    assert rows["online"]["contact_rate"] == 50.0 and rows["online"]["label"] == "线上推广"
    assert rows["event"]["qualified"] == 1 and rows["event"]["contacted"] == 1
    weekly = selectors.funnel(admin_user, group_by="week")
    assert sum(r["total"] for r in weekly) == 3
    by_owner = {r["key"]: r["total"] for r in selectors.funnel(admin_user, group_by="owner")}
    assert by_owner == {"owner": 2, "colleague": 1}
    # Scope: the owner sees only their own leads.
    assert sum(r["total"] for r in selectors.funnel(owner, group_by="source")) == 2
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    assert selectors.funnel(admin_user, group_by="source", date_from=tomorrow) == []


def test_stage_counts_and_filters(owner, lead_data):
    services.lead_create(actor=owner, data=lead_data(1), owner=owner)
    lost = services.lead_create(actor=owner, data=lead_data(2, campaign="秋季"), owner=owner)
    services.lead_change_stage(lead=lost, stage="lost", actor=owner, reason="x")
    counts = selectors.stage_counts(selectors.lead_list(owner))
    assert counts["new"] == 1 and counts["lost"] == 1
    assert list(selectors.lead_list(owner, {"campaign": "秋季"})) == [lost]
    assert selectors.lead_list(owner, {"region": "140100"}).count() == 2
    assert selectors.lead_list(owner, {"stage": "open"}).count() == 1
    assert Lead.objects.count() == 2
