from __future__ import annotations

from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from credo.core.audit.db import install_guard, remove_guard
from credo.core.audit.models import AuditEntry
from credo.core.audit.services import audit_record, audit_seal, audit_verify, diff_fields

pytestmark = pytest.mark.django_db


@contextmanager
def tampering():
    """Simulate an attacker with DDL rights: lift the append-only trigger, then restore it."""
    remove_guard(connection)
    try:
        yield
    finally:
        install_guard(connection)


def _chain(n: int, actor=None) -> list[AuditEntry]:
    """n rows, sealed: the tampering below aims at chain positions."""
    rows = [
        audit_record(
            action="test.changed",
            actor=actor,
            object_type="x",
            object_id=i,
            changes={"n": {"before": i, "after": i + 1}},
        )
        for i in range(n)
    ]
    audit_seal()
    return rows


def test_intact_chain_verifies(owner):
    _chain(5, owner)
    result = audit_verify()
    assert result.ok and result.checked == 5
    assert AuditEntry.objects.get(seq=1).actor_name == "owner"


def test_edited_row_is_detected():
    _chain(4)
    with tampering():
        AuditEntry.objects.filter(seq=3).update(changes={"n": {"before": 0, "after": 99}})
    result = audit_verify()
    assert not result.ok and result.bad_seq == 3


def test_deleted_row_is_detected():
    _chain(4)
    with tampering():
        AuditEntry.objects.filter(seq=2).delete()
    result = audit_verify()
    assert not result.ok and result.bad_seq == 2


def test_deleted_tail_is_detected():
    _chain(3)
    with tampering():
        AuditEntry.objects.filter(seq=3).delete()
    assert not audit_verify().ok


def test_reordered_rows_are_detected():
    rows = _chain(3)
    a, b = rows[0], rows[1]
    with tampering():
        AuditEntry.objects.filter(pk=a.pk).update(seq=-1)
        AuditEntry.objects.filter(pk=b.pk).update(seq=1)
        AuditEntry.objects.filter(pk=a.pk).update(seq=2)
    result = audit_verify()
    assert not result.ok and result.bad_seq == 1


def test_diff_masks_sensitive_fields():
    diff = diff_fields(
        {"name": "甲", "id_number": "1"}, {"name": "乙", "id_number": "2"}, sensitive={"id_number"}
    )
    assert diff == {
        "name": {"before": "甲", "after": "乙"},
        "id_number": {"before": "***", "after": "***"},
    }


def test_database_refuses_update_and_delete():
    _chain(2)
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(seq=1).update(action="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.filter(seq=2).delete()
    assert AuditEntry.objects.count() == 2
    assert AuditEntry.objects.get(seq=1).action == "test.changed"


def test_rolled_back_change_leaves_no_audit_row():
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(action="test.changed", object_type="x", object_id=1)
        raise RuntimeError("service failed after auditing")
    assert AuditEntry.objects.count() == 0
    assert audit_verify().ok


def test_verify_command_reports_first_bad_row():
    _chain(3)
    out = StringIO()
    call_command("audit", "verify", stdout=out)
    assert "3 rows verified" in out.getvalue()
    with tampering():
        AuditEntry.objects.filter(seq=2).update(actor_name="mallory")
    with pytest.raises(CommandError, match="seq=2"):
        call_command("audit", "verify")


def test_audit_page_requires_permission_and_filters(client, owner, colleague):
    from django.contrib.auth.models import Permission

    audit_record(action="loan.disbursed", actor=owner, object_type="lending.loan", object_id=7)
    audit_record(action="user.created", actor=colleague, object_type="accounts.user", object_id=8)
    client.force_login(colleague)
    assert client.get("/audit/").status_code == 403
    colleague.user_permissions.add(Permission.objects.get(codename="view_audit_log"))
    resp = client.get("/audit/", {"action": "loan."})
    assert resp.status_code == 200
    rows = list(resp.context["page"])
    assert [r.action for r in rows] == ["loan.disbursed"]
    resp = client.get("/audit/", {"date_from": "2026-02-01", "date_to": "2026-01-01"})
    assert resp.status_code == 200 and resp.context["form"].errors
    assert list(resp.context["page"]) == []
    detail = client.get(f"/audit/entry/{rows[0].pk}/")
    assert detail.status_code == 200 and "lending.loan" in detail.content.decode()
