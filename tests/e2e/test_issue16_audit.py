"""Browser (issue 16): an auditor opens the ``lead.create`` entry and sees what was created —
the name in clear, the phone masked — instead of blank before/after cells."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from credo.core.audit.models import AuditEntry
from credo.leads import services as lead_services

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = "13812345678"


def test_audit_page_shows_lead_create_values_masked(page, login, owner, colleague):
    lead_services.lead_create(
        actor=owner,
        data={"name": "太原丙公司", "phone": PHONE, "source": "online", "region_code": "140105"},
        owner=owner,
    )
    colleague.user_permissions.add(Permission.objects.get(codename="view_audit_log"))
    pk = AuditEntry.objects.get(action="lead.create").pk
    login(colleague)
    page.goto(f"{page.base_url}/audit/entry/{pk}/")
    table = page.locator("table.card-table")
    name_row = table.locator("tr", has_text="name").first
    assert name_row.locator("td").nth(2).inner_text().strip() == "太原丙公司"
    phone_row = table.locator("tr").filter(has_text="phone").first
    assert phone_row.locator("td").nth(2).inner_text().strip() == "138****5678"
    assert PHONE not in page.content()
    assert page.console_errors == []
