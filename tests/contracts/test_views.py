from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from credo.contracts import esign, services
from credo.contracts.models import Contract, ContractTemplate
from credo.core.audit.models import AuditEntry
from tests.factories import RoleFactory, UserFactory
from tests.lending.test_api import auth

pytestmark = pytest.mark.django_db
API = "/api/v1/contracts"


def _login(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def contract(make_contract, contract_perms):
    return make_contract()


def test_card_page_and_pdf_audited(client: Client, owner, contract):
    _login(client, owner)
    resp = client.get(f"/contracts/{contract.pk}/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert contract.number in html and "待发送" in html and "发送签署" in html
    assert "模拟签署" not in html
    resp = client.get(f"/contracts/{contract.pk}/pdf/")
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert resp.content.startswith(b"%PDF")
    assert AuditEntry.objects.filter(action="contracts.pdf_download").count() == 1


def test_outsider_gets_404_and_no_perm_403(client: Client, outsider, colleague, contract, org):
    _login(client, outsider)
    assert client.get(f"/contracts/{contract.pk}/").status_code == 404
    assert client.get(f"/contracts/{contract.pk}/pdf/").status_code == 404
    assert client.post(f"/contracts/{contract.pk}/send/").status_code == 404
    contract.refresh_from_db()
    assert contract.status == "draft"
    nobody = UserFactory(username="noperm", org_unit=org["team_a"])
    client.logout()
    _login(client, nobody)
    assert client.get(f"/contracts/{contract.pk}/pdf/").status_code == 403


def test_send_then_simulated_sign_via_buttons(client: Client, owner, contract):
    _login(client, owner)
    resp = client.post(f"/contracts/{contract.pk}/send/", {"next": "https://evil.example/"})
    assert resp.status_code == 302 and resp["Location"] == f"/contracts/{contract.pk}/"
    html = client.get(f"/contracts/{contract.pk}/").content.decode()
    assert "模拟签署" in html and "模拟拒签" in html
    client.post(f"/contracts/{contract.pk}/simulate/", {"outcome": "signed"})
    contract.refresh_from_db()
    assert contract.status == "signed"
    assert "已签署" in client.get(f"/contracts/{contract.pk}/").content.decode()


def test_template_editor(client: Client, org):
    role = RoleFactory(code="tpl_admin", name="模板管理", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="contracts", codename__in=["change_contracttemplate"]
        )
    )
    admin = UserFactory(username="tpladmin", org_unit=org["head"], roles=[role])
    _login(client, admin)
    resp = client.get("/contracts/templates/")
    assert resp.status_code == 200 and "借款合同" in resp.content.decode()
    resp = client.get("/contracts/templates/loan/")
    assert resp.status_code == 200 and "{{ amount_upper }}" in resp.content.decode()
    bad = client.post(
        "/contracts/templates/loan/", {"name": "x", "body": "{% if x %}", "action": "save"}
    )
    assert bad.status_code == 200 and "模板语法错误" in bad.content.decode()
    assert ContractTemplate.objects.count() == 1
    preview = client.post(
        "/contracts/templates/loan/",
        {"name": "x", "body": "<p>{{ amount_upper }}</p>", "action": "preview"},
    )
    assert "人民币壹拾贰万元整" in preview.content.decode()
    ok = client.post(
        "/contracts/templates/loan/",
        {"name": "新版", "body": "<p>{{ amount_upper }}</p>", "note": "n", "action": "save"},
    )
    assert ok.status_code == 302
    assert ContractTemplate.objects.get(is_current=True).version == 2


def test_template_editor_needs_permission(client: Client, owner, contract_perms):
    _login(client, owner)
    assert client.get("/contracts/templates/").status_code == 403


# --- API -----------------------------------------------------------------------------------
def test_api_detail_pdf_send(client: Client, owner, outsider, contract):
    resp = client.get(f"{API}/{contract.pk}", **auth(owner))
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["number"] == contract.number and body["amount"] == "120000.00"
    assert client.get(f"{API}/{contract.pk}", **auth(outsider)).status_code == 404
    pdf = client.get(f"{API}/{contract.pk}/pdf", **auth(owner))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    sent = client.post(f"{API}/{contract.pk}/send", **auth(owner))
    assert sent.status_code == 200 and sent.json()["status"] == "sent"
    again = client.post(f"{API}/{contract.pk}/send", **auth(owner))
    assert again.status_code == 409


def test_api_callback(client: Client, owner, contract):
    calls = []
    services.register_signed_listener(calls.append)
    try:
        contract = services.contract_send(contract=contract, actor=owner)
        body = json.dumps({"ref": contract.provider_ref, "status": "signed"}).encode()
        url = f"{API}/esign/callback"
        bad = client.post(
            url, body, content_type="application/json", HTTP_X_CREDO_SIGNATURE="f" * 64
        )
        assert bad.status_code == 403
        contract.refresh_from_db()
        assert contract.status == "sent" and calls == []
        sig = esign.sign_body(body)
        for _ in range(2):
            ok = client.post(url, body, content_type="application/json", HTTP_X_CREDO_SIGNATURE=sig)
            assert ok.status_code == 200 and ok.json()["status"] == "signed"
        assert len(calls) == 1
        unknown = json.dumps({"ref": "SIM-nope", "status": "signed"}).encode()
        resp = client.post(
            url,
            unknown,
            content_type="application/json",
            HTTP_X_CREDO_SIGNATURE=esign.sign_body(unknown),
        )
        assert resp.status_code == 404
    finally:
        services.unregister_signed_listener(calls.append)
    assert Contract.objects.get(pk=contract.pk).status == "signed"
