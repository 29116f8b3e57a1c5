import json

import pytest
from django.test import Client

from credo.origination.models import Application, Document
from tests.lending.test_api import auth
from tests.origination.conftest import PDF, png_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db
API = "/api/v1/origination"


def post(client, url, body, headers, key=None):
    extra = dict(headers)
    if key:
        extra["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


BODY = {
    "product": "jy-loan",
    "amount": "300000.00",
    "months": 12,
    "annual_rate": "12",
    "purpose": "采购",
}


def test_create_list_get_scoped(client: Client, owner, outsider, customer, product_version):
    h = auth(owner)
    resp = post(client, f"{API}/applications", {**BODY, "customer_id": customer.pk}, h, key="c1")
    assert resp.status_code == 201, resp.content
    data = resp.json()
    assert data["amount"] == "300000.00" and data["status"] == "draft" and data["completeness"] == 0
    assert [r["item"] for r in data["checklist"]] == ["营业执照", "财务报表"]
    again = post(client, f"{API}/applications", {**BODY, "customer_id": customer.pk}, h, key="c1")
    assert again.status_code == 201 and Application.objects.count() == 1
    assert client.get(f"{API}/applications", **h).json()["count"] == 1
    assert client.get(f"{API}/applications", **auth(outsider)).json()["count"] == 0
    assert client.get(f"{API}/applications/{data['id']}", **auth(outsider)).status_code == 404
    # outsider cannot create for a customer outside their scope
    r = post(client, f"{API}/applications", {**BODY, "customer_id": customer.pk}, auth(outsider))
    assert r.status_code == 404
    r = post(client, f"{API}/applications", {**BODY, "customer_id": customer.pk, "months": 1}, h)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert Application.objects.count() == 1


def test_upload_submit_decision(client: Client, owner, make_app, approvers):
    app = make_app()
    h = auth(owner)
    url = f"{API}/applications/{app.pk}/documents"
    bad = client.post(url, {"item": "营业执照", "file": _f("a.pdf", b"MZ" + b"\0" * 50)}, **h)
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_document"
    assert "可执行" in bad.json()["message"]
    ok = client.post(url, {"item": "营业执照", "file": _f("a.png", png_bytes())}, **h)
    assert ok.status_code == 201, ok.content
    assert ok.json()["via"] == "api"
    early = post(client, f"{API}/applications/{app.pk}/submit", {}, h)
    assert early.status_code == 409 and "财务报表" in early.json()["message"]
    client.post(url, {"item": "财务报表", "file": _f("fs.xlsx", xlsx_bytes())}, **h)
    assert Document.objects.count() == 2
    resp = post(client, f"{API}/applications/{app.pk}/submit", {}, h)
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] in ("in_approval", "approved", "contract_sent")
    dec = client.get(f"{API}/applications/{app.pk}/decision", **h).json()
    assert dec["evaluated"] and dec["passed"] and dec["model"] == "origination.admission v1"


def test_portal_link_api(client: Client, owner, make_app):
    app = make_app()
    resp = post(client, f"{API}/applications/{app.pk}/portal-links", {"days": 3}, auth(owner))
    assert resp.status_code == 201
    token = resp.json()["token"]
    assert client.get(f"/portal/{token}/").status_code == 200
    assert (
        post(
            client, f"{API}/applications/{app.pk}/portal-links", {"days": 99}, auth(owner)
        ).status_code
        == 422
    )
    assert client.get(f"/portal/{token}x/").status_code == 404
    _ = PDF


def _f(name, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)
