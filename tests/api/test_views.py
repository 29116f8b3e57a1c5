from __future__ import annotations

import pytest
from django.test import Client

from credo.api.models import ApiToken
from credo.core.audit.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_token_page_requires_login(client: Client):
    resp = client.get("/system/api/tokens/")
    assert resp.status_code == 302
    assert "/accounts/login/" in resp["Location"]


def test_create_token_shows_plaintext_once(client: Client, owner):
    client.force_login(owner)
    resp = client.post(
        "/system/api/tokens/", {"name": "报表同步", "scopes": ["read"], "expires_in_days": "30"}
    )
    assert resp.status_code == 200
    token = ApiToken.objects.get(user=owner)
    text = resp.content.decode()
    assert f"credo_{token.prefix}_" in text
    assert resp["Cache-Control"] == "no-store"
    again = client.get("/system/api/tokens/").content.decode()
    assert "报表同步" in again
    assert f'value="credo_{token.prefix}_' not in again


def test_create_token_validation_in_chinese(client: Client, owner):
    client.force_login(owner)
    resp = client.post("/system/api/tokens/", {"name": "x"})
    assert resp.status_code == 200
    assert "至少选择一个权限范围" in resp.content.decode()
    assert not ApiToken.objects.exists()


def test_revoke_own_token_not_others(client: Client, owner, outsider, make_token):
    mine, _p = make_token(owner)
    theirs, _p2 = make_token(outsider)
    client.force_login(owner)
    assert client.get(f"/system/api/tokens/{theirs.pk}/revoke/").status_code == 404
    assert client.post(f"/system/api/tokens/{theirs.pk}/revoke/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    page = client.get(f"/system/api/tokens/{mine.pk}/revoke/")
    assert "确认吊销" in page.content.decode()
    resp = client.post(f"/system/api/tokens/{mine.pk}/revoke/")
    assert resp.status_code == 302
    mine.refresh_from_db()
    assert mine.revoked_at is not None
    assert AuditEntry.objects.filter(action="api.token_revoke", object_id=str(mine.pk)).exists()


def test_admin_sees_all_tokens(client: Client, owner, admin_user, make_token):
    make_token(owner)
    client.force_login(admin_user)
    text = client.get("/system/api/tokens/").content.decode()
    assert "张经理" in text


def test_user_lists_only_own_tokens(client: Client, owner, outsider, make_token):
    theirs, _p = make_token(outsider)
    client.force_login(owner)
    text = client.get("/system/api/tokens/").content.decode()
    assert theirs.prefix not in text


def test_nav_entries_registered(client: Client, owner):
    from credo.core.ui.nav import navigation_for

    client.force_login(owner)
    request = client.get("/system/api/tokens/").wsgi_request
    urls = [i["url"] for s in navigation_for(request) for i in s["items"]]
    assert "/system/api/tokens/" in urls and "/system/api/docs/" in urls
    assert "/system/tasks/" not in urls  # needs scheduling.view_tasks


def test_api_not_found_view_body(rf):
    from credo.api.views import api_not_found

    resp = api_not_found(rf.get("/api/v1/nope"))
    assert resp.status_code == 404
    import json

    assert json.loads(resp.content) == {"code": "not_found", "message": "资源不存在", "details": {}}
