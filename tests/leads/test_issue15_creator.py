"""Issue 15 item 8: the creator of a lead keeps read-only access after the rules hand it to a
colleague, lands on the lead page with a message naming the assignee; an outsider still sees
nothing. Item 10: the lead page shows the region name, not the code."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from credo.leads import selectors
from credo.leads.models import FollowUp, Lead, LeadAssignee

pytestmark = pytest.mark.django_db


@pytest.fixture
def created(client, owner, colleague, lead_perms, lead_data):
    """``owner`` enters a lead; the round robin hands it to ``colleague`` (owner opted out)."""
    LeadAssignee.objects.create(user=owner, active=False)
    client.force_login(owner)
    resp = client.post(reverse("leads:create"), lead_data(7))
    lead = Lead.objects.get()
    assert (lead.owner, lead.created_by) == (colleague, owner)
    return resp, lead


def test_creator_lands_on_lead_page_with_assignee_message(client, created, colleague):
    resp, lead = created
    assert resp.status_code == 302 and resp.url == reverse("leads:detail", args=[lead.pk])
    texts = [str(m) for m in get_messages(resp.wsgi_request)]
    assert "线索已分配给 李经理（测试客户经理）。" in texts


def test_creator_reads_but_cannot_edit(client, created, owner):
    _resp, lead = created
    detail = client.get(reverse("leads:detail", args=[lead.pk]))
    body = detail.content.decode()
    assert detail.status_code == 200 and 'id="lead-readonly"' in body
    assert 'id="followup-form"' not in body and 'id="lead-edit"' not in body
    assert lead.name in client.get(reverse("leads:list")).content.decode()
    assert lead in selectors.lead_list(owner, {"created": "1"}, with_created=True)
    # every write path refuses and changes nothing
    assert client.get(reverse("leads:edit", args=[lead.pk])).status_code == 404
    resp = client.post(reverse("leads:edit", args=[lead.pk]), {"name": "改名", "source": "online"})
    assert resp.status_code == 404
    resp = client.post(
        reverse("leads:followup_add", args=[lead.pk]), {"kind": "call", "outcome": "已联系"}
    )
    assert resp.status_code == 404
    resp = client.post(reverse("leads:stage", args=[lead.pk]), {"stage": "lost", "reason": "x"})
    assert resp.status_code == 404
    lead.refresh_from_db()
    assert (lead.name, lead.stage) == ("太原线索7", "new")
    assert not FollowUp.objects.exists()


def test_owner_still_edits(client, created, colleague):
    _resp, lead = created
    client.force_login(colleague)
    body = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert 'id="followup-form"' in body and 'id="lead-readonly"' not in body


def test_outsider_still_cannot_see(client, created, outsider):
    _resp, lead = created
    client.force_login(outsider)
    assert client.get(reverse("leads:detail", args=[lead.pk])).status_code == 404
    assert lead.name not in client.get(reverse("leads:list")).content.decode()
    assert not selectors.lead_list(outsider, with_created=True).filter(pk=lead.pk).exists()


def test_lead_page_shows_region_name(client, created, colleague):
    _resp, lead = created
    client.force_login(colleague)
    body = client.get(reverse("leads:detail", args=[lead.pk])).content.decode()
    assert "山西省太原市小店区" in body and ">140105<" not in body


def test_api_gives_the_creator_the_same_read_only_access(client, created, outsider):
    _resp, lead = created
    got = client.get(f"/api/v1/leads/{lead.pk}")
    assert got.status_code == 200 and got.json()["name"] == "太原线索7"
    listed = client.get("/api/v1/leads")
    assert lead.pk in [item["id"] for item in listed.json()["items"]]
    patched = client.patch(
        f"/api/v1/leads/{lead.pk}", data={"name": "改名"}, content_type="application/json"
    )
    assert patched.status_code == 404
    lead.refresh_from_db()
    assert lead.name == "太原线索7"
    client.force_login(outsider)
    assert client.get(f"/api/v1/leads/{lead.pk}").status_code == 404
