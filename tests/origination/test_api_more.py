"""API: withdraw, answer a return (补充说明), document review, customer invitation links."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from credo.api.models import IdempotencyKey
from credo.approvals import services as approvals
from credo.approvals.selectors import instance_for, open_task_of
from credo.core.audit.models import AuditEntry
from credo.origination import services
from credo.origination.models import Application, CorrectionNotice, Document, PortalLink
from tests.lending.test_api import auth
from tests.origination.conftest import png_bytes

pytestmark = pytest.mark.django_db
API = "/api/v1/origination"


def post(client, url, body, headers, key=None):
    extra = dict(headers)
    if key:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


def test_withdraw(client: Client, owner, outsider, reviewer, make_app):
    app = make_app()
    url = f"{API}/applications/{app.pk}/withdraw"
    # outside the data scope → 404; without the permission → 403; nothing changed
    assert post(client, url, {"reason": "x"}, auth(outsider)).status_code == 404
    denied = post(client, url, {"reason": "x"}, auth(reviewer))
    assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    assert post(client, url, {}, auth(owner, scopes=("read",))).status_code == 403
    app.refresh_from_db()
    assert app.status == "draft"
    h = auth(owner)
    first = post(client, url, {"reason": "客户暂不需要"}, h, key="w-1")
    assert first.status_code == 200, first.content
    assert first.json()["status"] == "withdrawn"
    replay = post(client, url, {"reason": "客户暂不需要"}, h, key="w-1")
    assert replay.status_code == 200 and replay["Idempotent-Replayed"] == "true"
    assert replay.content == first.content
    assert AuditEntry.objects.filter(action="application.withdrawn").count() == 1
    app.refresh_from_db()
    assert app.decision_note == "客户暂不需要"
    again = post(client, url, {}, h, key="w-2")
    assert again.status_code == 409 and again.json()["code"] == "invalid_state"
    assert not IdempotencyKey.objects.filter(key="w-2").exists()


def test_answer_return(client: Client, owner, outsider, make_app, complete, approvers):
    lead, risk = approvers
    app = services.application_submit(application=complete(make_app()), actor=owner)
    url = f"{API}/applications/{app.pk}/answer"
    early = post(client, url, {"answer": "说明"}, auth(owner))
    assert early.status_code == 409 and early.json()["code"] == "invalid_state"
    task = open_task_of(instance_for(app), lead)
    approvals.approval_act(task=task, actor=lead, action="return", comment="请说明资金用途")
    app.refresh_from_db()
    assert app.status == "returned"
    assert post(client, url, {"answer": "x"}, auth(outsider)).status_code == 404
    blank = post(client, url, {"answer": "  "}, auth(owner))
    assert blank.status_code == 422 and blank.json()["code"] == "validation_error"
    missing = post(client, url, {}, auth(owner))
    assert missing.status_code == 422
    app.refresh_from_db()
    assert app.status == "returned"
    ok = post(client, url, {"answer": "用于采购原材料"}, auth(owner), key="a-1")
    assert ok.status_code == 200, ok.content
    assert ok.json()["status"] == "in_approval"
    app.refresh_from_db()
    assert app.return_answer == "用于采购原材料"
    assert instance_for(app).actions.filter(kind="resume").count() == 1


def test_document_review(client: Client, owner, reviewer, outsider, make_app):
    app = make_app()
    doc = services.document_upload(
        application=app, item="营业执照", name="l.png", data=png_bytes(), actor=owner
    )
    url = f"{API}/applications/{app.pk}/documents/{doc.pk}/review"
    # the owner lacks review_documents; the outsider sees nothing
    denied = post(client, url, {"decision": "accept"}, auth(owner))
    assert denied.status_code == 403
    assert post(client, url, {"decision": "accept"}, auth(outsider)).status_code in (403, 404)
    bad = post(client, url, {"decision": "maybe"}, auth(reviewer))
    assert bad.status_code == 422
    no_reason = post(client, url, {"decision": "reject"}, auth(reviewer))
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "invalid_document"
    doc.refresh_from_db()
    assert doc.status == "pending" and CorrectionNotice.objects.count() == 0
    other = f"{API}/applications/{app.pk}/documents/999999/review"
    assert post(client, other, {"decision": "accept"}, auth(reviewer)).status_code == 404
    h = auth(reviewer)
    rejected = post(client, url, {"decision": "reject", "reason": "照片模糊"}, h, key="r-1")
    assert rejected.status_code == 200, rejected.content
    data = rejected.json()
    assert data["status"] == "rejected" and data["reject_reason"] == "照片模糊"
    assert data["reviewed_by"] == "reviewer" and data["reviewed_at"]
    notice = CorrectionNotice.objects.get(application=app)
    assert [i["item"] for i in notice.items] == ["营业执照", "财务报表"]
    replay = post(client, url, {"decision": "reject", "reason": "照片模糊"}, h, key="r-1")
    assert replay["Idempotent-Replayed"] == "true"
    assert AuditEntry.objects.filter(action="document.reject").count() == 1
    doc2 = services.document_upload(
        application=app, item="营业执照", name="l2.png", data=png_bytes(), actor=owner
    )
    # only the latest file of an item can be reviewed
    stale = post(client, url, {"decision": "accept"}, h)
    assert stale.status_code == 409
    ok = post(
        client, f"{API}/applications/{app.pk}/documents/{doc2.pk}/review", {"decision": "accept"}, h
    )
    assert ok.status_code == 200 and ok.json()["status"] == "accepted"
    assert Document.objects.get(pk=doc2.pk).status == "accepted"


def test_portal_invite_api(client: Client, owner, outsider, reviewer, customer, product_version):
    url = f"{API}/customers/{customer.pk}/portal-invites"
    assert post(client, url, {}, auth(outsider)).status_code == 404
    assert post(client, url, {}, auth(reviewer)).status_code == 403  # no manage_portal_links
    assert post(client, url, {"days": 0}, auth(owner)).status_code == 422
    assert PortalLink.objects.count() == 0
    resp = post(client, url, {"days": 5}, auth(owner))
    assert resp.status_code == 201, resp.content
    data = resp.json()
    assert data["customer_id"] == customer.pk and "/portal/invite/" in data["url"]
    token = data["token"]
    page = client.get(f"/portal/invite/{token}/")
    assert page.status_code == 200
    # revoke: outsider cannot, owner can; the link then answers 410
    revoke = f"{API}/portal-invites/{data['id']}/revoke"
    assert post(client, revoke, {}, auth(outsider)).status_code == 404
    done = post(client, revoke, {}, auth(owner))
    assert done.status_code == 200 and done.json()["revoked_at"]
    assert client.get(f"/portal/invite/{token}/").status_code == 410
    assert Application.objects.count() == 0
