from __future__ import annotations

import json

import pytest
from django.test import Client

from credo.api.services import token_create
from credo.approvals.models import ApprovalTask
from credo.core.audit.models import AuditEntry

pytestmark = pytest.mark.django_db
API = "/api/v1/approvals"


def auth(user, scopes=("read", "write")):
    _token, plain = token_create(
        user=user, name="t", scopes=list(scopes), expires_in_days=30, actor=user
    )
    return {"HTTP_AUTHORIZATION": f"Bearer {plain}"}


def post(client, url, body, headers, key=None):
    extra = dict(headers)
    if key:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


def test_tasks_instance_and_act(client: Client, start, approvers, outsider):
    lead = approvers["lead"]
    instance = start(amount=20_000_000)
    resp = client.get(f"{API}/tasks", **auth(lead))
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["count"] == 1
    [item] = body["items"]
    assert item["instance_id"] == instance.pk and item["amount"] == "200000.00"
    assert item["step_name"] == "分支机构负责人审批" and item["overdue"] is False

    resp = client.get(f"{API}/instances/{instance.pk}", **auth(lead))
    assert resp.status_code == 200
    detail = resp.json()
    assert detail["route"] == "standard" and detail["flow_version"] == 1
    assert [a["kind"] for a in detail["trail"]] == ["start"]

    headers = auth(lead)
    payload = {"action": "approve", "comment": "同意", "amount": "150000.00", "months": 6}
    first = post(client, f"{API}/tasks/{item['id']}/act", payload, headers, key="k-1")
    assert first.status_code == 200, first.content
    assert first.json()["decided_amount"] == "150000.00"
    assert first.json()["current_step"] == 1
    replay = post(client, f"{API}/tasks/{item['id']}/act", payload, headers, key="k-1")
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    assert replay.content == first.content
    assert instance.actions.filter(kind="approve").count() == 1

    # already decided → 409, nothing changed
    again = post(client, f"{API}/tasks/{item['id']}/act", payload, headers)
    assert again.status_code == 409 and again.json()["code"] == "invalid_state"

    # outsider cannot see the instance or its tasks
    assert client.get(f"{API}/instances/{instance.pk}", **auth(outsider)).status_code in (403, 404)


def test_act_refusals(client: Client, start, approvers, owner):
    instance = start()
    task = instance.tasks.get(assignee=approvers["lead"])
    resp = post(client, f"{API}/tasks/{task.pk}/act", {"action": "approve"}, auth(owner))
    assert resp.status_code == 403 and resp.json()["code"] == "conflict_of_interest"
    assert AuditEntry.objects.filter(action="approval.refused").count() == 1
    resp = post(
        client,
        f"{API}/tasks/{task.pk}/act",
        {"action": "approve", "amount": "abc"},
        auth(approvers["lead"]),
    )
    assert resp.status_code == 422
    resp = post(
        client,
        f"{API}/tasks/{task.pk}/act",
        {"action": "approve", "amount": "300000"},
        auth(approvers["lead"]),
    )
    assert resp.status_code == 422 and "不能高于" in resp.json()["message"]
    resp = post(
        client,
        f"{API}/tasks/{task.pk}/act",
        {"action": "approve"},
        auth(approvers["lead"], scopes=("read",)),
    )
    assert resp.status_code == 403
    task.refresh_from_db()
    assert task.status == ApprovalTask.Status.OPEN


def test_transfer_by_id(client: Client, start, approvers):
    instance = start()
    task = instance.tasks.get(assignee=approvers["lead"])
    resp = post(
        client,
        f"{API}/tasks/{task.pk}/act",
        {"action": "transfer", "transfer_to": approvers["lead2"].pk, "comment": "请代批"},
        auth(approvers["lead"]),
    )
    assert resp.status_code == 200, resp.content
    assert instance.tasks.filter(assignee=approvers["lead2"], status="open").exists()
