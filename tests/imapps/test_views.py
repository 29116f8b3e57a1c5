from __future__ import annotations

import pytest

from credo.core.audit.models import AuditEntry
from credo.imapps.models import Identity, ImApp

pytestmark = pytest.mark.django_db


def test_admin_configures_tests_and_syncs(client, admin, fake, org, risk_role, am_role):
    client.force_login(admin)
    assert client.get("/imapps/").status_code == 200
    resp = client.post(
        "/imapps/wecom/edit/",
        {
            "enabled": "on",
            "corp_id": fake.corp_id,
            "agent_id": "1000002",
            "base_url": fake.url,
            "login_url": fake.url + "/wwlogin/sso/login",
            "public_url": "http://credo.test",
            "timeout_seconds": "3",
            "root_org_unit": org["head"].pk,
            "secret_new": fake.secret,
            "rules_text": "部门:风控部=risk_analyst\n职务:客户经理=account_manager",
        },
    )
    assert resp.status_code == 302, resp.content.decode()[:2000]
    app = ImApp.objects.get(platform="wecom")
    assert app.secret == fake.secret and len(app.role_rules) == 2
    page = client.get("/imapps/").content.decode()
    assert fake.secret not in page
    resp = client.post("/imapps/wecom/test/", follow=True)
    assert "连接成功" in resp.content.decode()
    resp = client.post("/imapps/wecom/sync/", follow=True)
    assert "同步完成" in resp.content.decode()
    assert Identity.objects.filter(platform="wecom").count() == 2
    # blank secret keeps the stored one
    resp = client.post(
        "/imapps/wecom/edit/",
        {
            "enabled": "on",
            "corp_id": fake.corp_id,
            "public_url": "http://credo.test",
            "timeout_seconds": "3",
            "rules_text": "",
        },
    )
    assert resp.status_code == 302
    app.refresh_from_db()
    assert app.secret == fake.secret


def test_bad_rule_line_is_a_form_error(client, admin):
    client.force_login(admin)
    resp = client.post("/imapps/wecom/edit/", {"timeout_seconds": "3", "rules_text": "随便写写"})
    assert resp.status_code == 200 and "格式应为" in resp.content.decode()


def test_enabling_needs_the_credo_address_for_card_links(client, admin, fake):
    client.force_login(admin)
    resp = client.post(
        "/imapps/wecom/edit/",
        {"enabled": "on", "corp_id": fake.corp_id, "timeout_seconds": "3", "rules_text": ""},
    )
    assert resp.status_code == 200 and "请填写 Credo 访问地址" in resp.content.decode()
    assert not ImApp.objects.filter(platform="wecom", enabled=True).exists()


def test_non_admin_refused(client, colleague):
    client.force_login(colleague)
    assert client.get("/imapps/").status_code == 403
    assert client.post("/imapps/wecom/sync/").status_code == 403
    assert not AuditEntry.objects.filter(action="imapps.sync").exists()


def test_api_sync_runs(client, admin, wecom):
    client.force_login(admin)
    resp = client.post("/api/v1/imapps/wecom/sync")
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "done"
    listing = client.get("/api/v1/imapps/sync-runs").json()
    assert listing["items"][0]["counts"]["users_created"] == 2
