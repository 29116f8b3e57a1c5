"""Issue 16 items 6 and 13: the audit log never stores personal data in clear, and the audit
page shows what a ``lead.create`` recorded (masked where sensitive)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.db import connection

from credo.core.audit.models import AuditEntry
from credo.core.audit.services import audit_record, audit_verify
from credo.leads import services as lead_services

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
MASKED = "138****5678"


def _raw_audit_text() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT changes, metadata FROM audit_auditentry")
        return " ".join(str(v) for row in cursor.fetchall() for v in row)


def test_lead_create_and_update_store_masked_phones(owner):
    lead = lead_services.lead_create(
        actor=owner,
        data={"name": "太原甲公司", "phone": PHONE, "source": "online", "region_code": "140105"},
        owner=owner,
    )
    lead_services.lead_update(lead=lead, actor=owner, data={"phone": "13999998888"})
    created = AuditEntry.objects.get(action="lead.create")
    assert created.changes["phone"] == [None, MASKED]
    assert created.changes["name"] == [None, "太原甲公司"]  # not sensitive: kept
    updated = AuditEntry.objects.get(action="lead.update")
    assert updated.changes["phone"] == [MASKED, "139****8888"]
    raw = _raw_audit_text()
    assert PHONE not in raw and "13999998888" not in raw
    assert audit_verify(checkpoint=False).ok  # the hash covers the masked values


def test_every_known_sensitive_name_is_masked_in_any_shape():
    audit_record(
        action="test.sensitive",
        object_type="x.thing",
        object_id=1,
        changes={
            "id_number": {"before": "", "after": "11010519491231002X"},
            "bank_account": ["6222020200112233445", "6222020200112233999"],
            "mobile": PHONE,
            "note": "无敏感信息",
        },
        metadata={"contacts": [{"name": "王", "phone": PHONE}], "password_generated": True},
    )
    entry = AuditEntry.objects.get()
    assert entry.changes["id_number"] == {"before": "", "after": "110105********002X"}
    assert entry.changes["bank_account"] == ["***************3445", "***************3999"]
    assert entry.changes["mobile"] == MASKED and entry.changes["note"] == "无敏感信息"
    assert entry.metadata == {
        "contacts": [{"name": "王", "phone": MASKED}],
        "password_generated": True,
    }


def test_registered_encrypted_fields_of_the_object_are_masked():
    # tests.testapp.SecretRecord.id_number is an EncryptedTextField (mask "id_number").
    audit_record(
        action="test.secret",
        object_type="testapp.secretrecord",
        object_id=1,
        changes={"id_number": [None, "11010519491231002X"]},
    )
    assert AuditEntry.objects.get().changes["id_number"] == [None, "110105********002X"]


def test_audit_page_shows_created_values_of_lead_create(client, owner, colleague):
    lead_services.lead_create(
        actor=owner,
        data={"name": "太原乙公司", "phone": PHONE, "source": "online", "region_code": "140105"},
        owner=owner,
    )
    # A row written before masking moved into audit_record is masked on display as well.
    audit_record(
        action="lead.update",
        object_type="leads.lead",
        object_id=1,
        changes={"campaign": ["旧活动", "新活动"]},
    )
    colleague.user_permissions.add(Permission.objects.get(codename="view_audit_log"))
    client.force_login(colleague)
    pk = AuditEntry.objects.get(action="lead.create").pk
    resp = client.get(f"/audit/entry/{pk}/")
    rows = {name: (before, after) for name, before, after in resp.context["rows"]}
    assert rows["name"] == (None, "太原乙公司") and rows["phone"] == (None, MASKED)
    html = resp.content.decode()
    assert "太原乙公司" in html and MASKED in html and PHONE not in html
    pk = AuditEntry.objects.get(action="lead.update").pk
    rows = client.get(f"/audit/entry/{pk}/").context["rows"]
    assert rows == [("campaign", "旧活动", "新活动")]


def test_display_masks_clear_values_stored_by_older_versions(client, colleague):
    from credo.core.audit.views import change_rows

    entry = AuditEntry(object_type="leads.lead", changes={"phone": [None, PHONE], "n": 3})
    assert change_rows(entry) == [("phone", None, MASKED), ("n", None, 3)]
