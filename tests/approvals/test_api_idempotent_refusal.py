"""A refused approval action sent with an Idempotency-Key is still audited (the idempotency
wrapper runs the handler in one transaction; a refusal must not roll its audit row back)."""

from __future__ import annotations

import pytest
from django.test import Client

from credo.api.models import IdempotencyKey
from credo.approvals.models import ApprovalTask
from credo.core.audit.models import AuditEntry
from credo.core.audit.services import audit_verify
from tests.approvals.test_api import API, auth, post

pytestmark = pytest.mark.django_db


def test_self_approval_refused_with_key_is_audited_and_key_released(
    client: Client, start, approvers, owner
):
    instance = start()
    task = instance.tasks.get(assignee=approvers["lead"])
    headers = auth(owner)
    resp = post(client, f"{API}/tasks/{task.pk}/act", {"action": "approve"}, headers, key="s-1")
    assert resp.status_code == 403 and resp.json()["code"] == "conflict_of_interest"
    [row] = AuditEntry.objects.filter(action="approval.refused")
    assert row.actor_id == owner.pk and row.metadata["code"] == "conflict_of_interest"
    assert row.metadata["task"] == task.pk
    # nothing else changed: the task is open, no key stored (the client may retry)
    task.refresh_from_db()
    assert task.status == ApprovalTask.Status.OPEN
    assert instance.actions.filter(kind="approve").count() == 0
    assert not IdempotencyKey.objects.filter(key="s-1").exists()
    # a retry with the same key runs again (no replay) and is audited again
    again = post(client, f"{API}/tasks/{task.pk}/act", {"action": "approve"}, headers, key="s-1")
    assert again.status_code == 403 and "Idempotent-Replayed" not in again
    assert AuditEntry.objects.filter(action="approval.refused").count() == 2
    assert audit_verify().ok


def test_validation_refusal_with_key_leaves_no_key(client: Client, start, approvers):
    instance = start()
    task = instance.tasks.get(assignee=approvers["lead"])
    resp = post(
        client,
        f"{API}/tasks/{task.pk}/act",
        {"action": "approve", "amount": "300000"},
        auth(approvers["lead"]),
        key="v-1",
    )
    assert resp.status_code == 422 and "不能高于" in resp.json()["message"]
    assert AuditEntry.objects.filter(action="approval.refused").count() == 1
    assert not IdempotencyKey.objects.filter(key="v-1").exists()
    task.refresh_from_db()
    assert task.status == ApprovalTask.Status.OPEN


def test_unexpected_error_with_key_rolls_everything_back(client: Client, owner, monkeypatch):
    """A non-refusal exception (a bug, a 500) still rolls the whole request back."""
    from credo.api.idempotency import idempotent
    from credo.core.audit.services import audit_record

    calls = []

    @idempotent
    def handler(request):
        audit_record(action="test.partial", actor=owner)
        calls.append(1)
        raise RuntimeError("boom")

    from django.test import RequestFactory

    request = RequestFactory().post("/x", data=b"{}", content_type="application/json")
    request.META["HTTP_IDEMPOTENCY_KEY"] = "e-1"
    request.user = owner
    with pytest.raises(RuntimeError):
        handler(request)
    assert calls == [1]
    assert not AuditEntry.objects.filter(action="test.partial").exists()
    assert not IdempotencyKey.objects.filter(key="e-1").exists()
