"""Browser, issue 15 item 8: a manager enters a lead that the round robin hands to a colleague;
they land on the lead page (read only) with a message naming the assignee; an outsider still
gets nothing. Item 10: the page shows the region name, not 140105."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from credo.leads.models import Lead, LeadAssignee

pytestmark = pytest.mark.django_db(transaction=True)


def _grant(role):
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="leads",
            codename__in=["view_lead", "add_lead", "change_lead", "convert_lead"],
        )
    )


def test_creator_sees_assigned_lead_read_only(page, login, owner, colleague, outsider):
    _grant(owner.roles.get())
    LeadAssignee.objects.create(user=owner, active=False)  # the rules pick the colleague
    login(owner)
    page.goto(f"{page.base_url}/leads/new/")
    page.fill("#id_name", "晋阳商贸有限公司")
    page.fill("#id_phone", "13912345670")
    page.fill("#id_region_code", "140105")
    page.click("#lead-form button[type=submit]")
    lead = Lead.objects.get()
    assert (lead.owner, lead.created_by) == (colleague, owner)
    page.wait_for_url(f"**/leads/{lead.pk}/")
    assert "线索已分配给 李经理（测试客户经理）" in page.inner_text("body")
    assert page.is_visible("#lead-readonly")
    assert page.inner_text("#lead-region") == "山西省太原市小店区"
    assert page.locator("#lead-edit").count() == 0
    assert page.locator("#followup-form").count() == 0
    page.goto(f"{page.base_url}/leads/?created=1")
    assert "晋阳商贸有限公司" in page.inner_text("#lead-table")
    assert page.console_errors == []
    resp = page.goto(f"{page.base_url}/leads/{lead.pk}/edit/")
    assert resp.status == 404

    page.context.clear_cookies()
    login(outsider)
    resp = page.goto(f"{page.base_url}/leads/{lead.pk}/")
    assert resp.status == 404
    page.goto(f"{page.base_url}/leads/")
    assert "晋阳商贸有限公司" not in page.inner_text("body")
