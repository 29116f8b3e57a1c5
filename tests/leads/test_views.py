import datetime as dt

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from credo.leads import services
from credo.leads.models import Lead, WebFormCounter

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def lead(owner, lead_perms, lead_data):
    return services.lead_create(actor=owner, data=lead_data(1), owner=owner)


def test_scope_owner_colleague_outsider(client, lead, owner, colleague, outsider):
    url = reverse("leads:detail", args=[lead.pk])
    assert login(client, owner).get(url).status_code == 200
    # Account managers see their own leads only (data scope "own").
    assert login(client, colleague).get(url).status_code == 404
    assert login(client, outsider).get(url).status_code == 404
    resp = login(client, outsider).get(reverse("leads:list"))
    assert lead.name not in resp.content.decode()


def test_team_lead_sees_team_and_overdue_table(client, lead, team_lead, owner):
    Lead.objects.filter(pk=lead.pk).update(
        next_follow_up=timezone.localdate() - dt.timedelta(days=1)
    )
    resp = login(client, team_lead).get(reverse("leads:list"))
    body = resp.content.decode()
    assert resp.status_code == 200 and lead.name in body
    assert 'data-overdue="1"' in body and 'id="overdue-by-owner"' in body
    resp = client.get(reverse("leads:list"), {"overdue": "1"})
    assert list(resp.context["page"].object_list) == [lead]


def test_no_permission_forbidden(client, org):
    from tests.factories import UserFactory

    nobody = UserFactory(username="nobody", org_unit=org["team_a"])
    assert login(client, nobody).get(reverse("leads:list")).status_code == 403


def test_create_view_assigns(client, owner, colleague, lead_perms, lead_data):
    resp = login(client, owner).post(reverse("leads:create"), lead_data(5))
    assert resp.status_code == 302
    lead = Lead.objects.get()
    assert lead.owner in (owner, colleague) and lead.assignment_version is not None


def test_create_view_errors_nothing_saved(client, owner, lead_perms, lead_data):
    resp = login(client, owner).post(reverse("leads:create"), lead_data(5, phone="123"))
    assert resp.status_code == 200 and "phone" in resp.context["form"].errors
    assert Lead.objects.count() == 0


def test_followup_stage_and_convert_views(client, lead, owner):
    login(client, owner)
    nxt = (timezone.localdate() + dt.timedelta(days=2)).isoformat()
    resp = client.post(
        reverse("leads:followup_add", args=[lead.pk]),
        {"kind": "call", "outcome": "有意向", "next_date": nxt},
    )
    assert resp.status_code == 302
    lead.refresh_from_db()
    assert lead.stage == "contacted"
    # Board drop (htmx): invalid → error shown, nothing changed.
    resp = client.post(
        reverse("leads:stage", args=[lead.pk]), {"stage": "lost"}, HTTP_HX_REQUEST="true"
    )
    assert "board-error" in resp.content.decode()
    lead.refresh_from_db()
    assert lead.stage == "contacted"
    resp = client.post(
        reverse("leads:stage", args=[lead.pk]), {"stage": "qualified"}, HTTP_HX_REQUEST="true"
    )
    assert resp.status_code == 200 and 'id="lead-board"' in resp.content.decode()
    lead.refresh_from_db()
    assert lead.stage == "qualified"
    from tests.customers.conftest import make_id

    resp = client.post(
        reverse("leads:convert", args=[lead.pk]),
        {"kind": "individual", "id_number": make_id(4), "start_application": "on"},
    )
    lead.refresh_from_db()
    assert lead.stage == "converted"
    assert resp["Location"] == (
        f"/origination/applications/new/?customer={lead.customer_id}&lead={lead.pk}"
    )


def test_board_and_funnel_pages(client, lead, owner):
    login(client, owner)
    assert client.get(reverse("leads:board")).status_code == 200
    resp = client.get(reverse("leads:funnel"), {"group_by": "week"})
    assert resp.status_code == 200 and resp.context["rows"][0]["total"] == 1


def test_public_form_creates_lead_and_is_embeddable(client, owner, lead_data):
    url = reverse("lead_forms:lead") + "?campaign=官网春季"
    resp = client.get(url)
    assert resp.status_code == 200 and "X-Frame-Options" not in resp
    resp = client.post(url, {"name": "张三", "phone": "13912345678", "region_code": "140105"})
    assert resp.status_code == 200 and 'id="public-thanks"' in resp.content.decode()
    lead = Lead.objects.get()
    assert lead.source == "web_form" and lead.campaign == "官网春季" and lead.owner == owner
    assert WebFormCounter.objects.get().accepted == 1


def test_public_form_honeypot_counted_nothing_stored(client):
    url = reverse("lead_forms:lead")
    resp = client.post(url, {"name": "bot", "phone": "13912345678", "website": "http://x"})
    assert resp.status_code == 200
    assert Lead.objects.count() == 0
    assert WebFormCounter.objects.get().honeypot == 1


def test_public_form_rate_limit(client, owner):
    url = reverse("lead_forms:lead")
    for i in range(5):
        resp = client.post(url, {"name": f"客户{i}", "phone": f"1391234{i:04d}"})
        assert resp.status_code == 200
    resp = client.post(url, {"name": "第六个", "phone": "13912349999"})
    assert resp.status_code == 429
    assert Lead.objects.count() == 5
    assert WebFormCounter.objects.get().rate_limited == 1


def test_merge_view(client, owner, lead_perms, lead_data):
    first = services.lead_create(actor=owner, data=lead_data(1), owner=owner)
    dup = services.lead_create(actor=owner, data=lead_data(1, name="重复"), owner=owner)
    login(client, owner)
    body = client.get(reverse("leads:detail", args=[dup.pk])).content.decode()
    assert "merge-btn" in body
    resp = client.post(reverse("leads:merge", args=[dup.pk]))
    assert resp["Location"] == reverse("leads:detail", args=[first.pk])
    dup.refresh_from_db()
    assert dup.stage == "lost" and dup.lost_reason == "重复"


def test_book_reassign_preview_and_confirm(client, admin_user, owner, colleague, lead):
    login(client, admin_user)
    params = {"from_user": owner.pk, "to_user": colleague.pk}
    resp = client.get(reverse("leads:book_reassign"), params)
    assert resp.context["preview"]["lead_count"] == 1
    lead.refresh_from_db()
    assert lead.owner == owner  # preview changes nothing
    client.post(reverse("leads:book_reassign"), {**params, "confirm": "1"})
    lead.refresh_from_db()
    assert lead.owner == colleague


def test_import_preview_errors_then_confirm(client, team_lead, owner, colleague):
    csv_text = (
        "名称,手机号,来源渠道,地区代码,业务类型,意向金额\n"
        "甲公司,13800001111,线下活动,140105,经营贷,100000\n"
        "乙公司,12345,线上推广,140105,经营贷,abc\n"
        "丙公司,13800002222,未知渠道,999999,经营贷,\n"
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    login(client, team_lead)
    upload = SimpleUploadedFile("leads.csv", csv_text.encode("utf-8"), content_type="text/csv")
    resp = client.post(reverse("leads:import"), {"file": upload, "default_source": "other"})
    checked = resp.context["checked"]
    assert checked.total == 3 and len(checked.valid) == 1
    errs = {(e.row_number, e.column_label) for e in checked.errors}
    assert errs == {(3, "手机号"), (3, "意向金额"), (4, "来源渠道"), (4, "地区代码")}
    assert Lead.objects.count() == 0
    client.post(reverse("leads:import"), {"confirm": "1"})
    lead = Lead.objects.get()
    assert lead.name == "甲公司" and lead.source == "event" and lead.owner is not None


def test_global_search_scoped(lead, owner, manager_role, outsider):
    from credo.accounts.fieldperms import clear_cache
    from credo.accounts.models import FieldPermission
    from credo.leads.selectors import search_leads

    # By phone only with the clear-read field permission (issue 16 #3).
    assert search_leads(owner, "13800000001", 10) == []
    FieldPermission.objects.create(role=manager_role, field_key="leads.lead.phone", can_view=True)
    clear_cache(owner)
    assert [h.title for h in search_leads(owner, "13800000001", 10)] == [lead.name]
    assert [h.title for h in search_leads(owner, "太原线索", 10)] == [lead.name]
    assert search_leads(outsider, "太原线索", 10) == []


def test_assignee_settings(client, team_lead, owner, outsider):
    login(client, team_lead)
    resp = client.get(reverse("leads:assignees"))
    users = [row["user"] for row in resp.context["rows"]]
    assert owner in users and outsider not in users
    client.post(reverse("leads:assignees"), {"user": owner.pk, "max_open": "3"})
    owner.lead_assignee.refresh_from_db()
    assert owner.lead_assignee.max_open == 3 and owner.lead_assignee.active is False
    # Outside the team lead's scope: refused, nothing stored.
    client.post(reverse("leads:assignees"), {"user": outsider.pk, "max_open": "1", "active": "on"})
    assert not hasattr(outsider, "lead_assignee") or outsider.lead_assignee is None


def test_edit_view(client, lead, owner, outsider):
    login(client, owner)
    url = reverse("leads:edit", args=[lead.pk])
    assert client.get(url).status_code == 200
    data = {"name": "改名", "phone": lead.phone, "source": "event", "region_code": "140105"}
    assert client.post(url, data).status_code == 302
    lead.refresh_from_db()
    assert lead.name == "改名" and lead.source == "event"
    assert login(client, outsider).post(url, {**data, "name": "x"}).status_code == 404
    lead.refresh_from_db()
    assert lead.name == "改名"
