from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from credo.accounts.models import User
from credo.core.audit.models import AuditEntry
from credo.imapps import services
from credo.imapps.models import Identity

pytestmark = pytest.mark.django_db


def _scan(client, fake, platform, userid, next_url=""):
    """Follow the login redirect through the fake QR page back to the callback."""
    fake.next_login_userid = userid
    url = f"/imapps/{platform}/login/" + (f"?next={next_url}" if next_url else "")
    resp = client.get(url)
    assert resp.status_code == 302 and resp["Location"].startswith(fake.url)

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(resp["Location"])
    except urllib.error.HTTPError as exc:
        back = exc.headers["Location"]
    parts = urllib.parse.urlsplit(back)
    assert parts.path == f"/imapps/{platform}/callback/"
    return client.get(f"{parts.path}?{parts.query}")


def test_login_page_shows_platform_buttons_when_configured(client, wecom):
    body = client.get("/accounts/login/").content.decode()
    assert "企业微信登录" in body and "钉钉登录" not in body


def test_wecom_qr_login_logs_in_mapped_user(client, wecom, fake, admin):
    services.sync_run(platform="wecom", actor=admin)
    resp = _scan(client, fake, "wecom", "zhangsan", next_url="/approvals/inbox/")
    assert resp.status_code == 302 and resp["Location"] == "/approvals/inbox/"
    user = Identity.objects.get(external_id="zhangsan").user
    assert int(client.session["_auth_user_id"]) == user.pk
    assert AuditEntry.objects.filter(action="auth.login", object_id=str(user.pk)).exists()


def test_unknown_and_inactive_users_refused_and_audited(client, wecom, fake, admin):
    resp = _scan(client, fake, "wecom", "stranger")
    assert resp.status_code == 403 and "尚未开通" in resp.content.decode()
    assert AuditEntry.objects.filter(
        action="imapps.login_refused", metadata__reason="unknown_user"
    ).exists()
    services.sync_run(platform="wecom", actor=admin)
    user = Identity.objects.get(external_id="lisi").user
    User.objects.filter(pk=user.pk).update(is_active=False)
    resp = _scan(client, fake, "wecom", "lisi")
    assert resp.status_code == 403 and "已停用" in resp.content.decode()
    assert "_auth_user_id" not in client.session


def test_forged_state_and_bad_code_refused(client, wecom):
    resp = client.get("/imapps/wecom/callback/?code=x&state=forged")
    assert resp.status_code == 403
    assert AuditEntry.objects.filter(metadata__reason="bad_state").exists()
    from credo.imapps.signing import state_make

    state = state_make(platform="wecom", next_url="/")
    resp = client.get(f"/imapps/wecom/callback/?code=nope&state={state}")
    assert resp.status_code == 403 and "40029" in resp.content.decode()
    # a state signed for the other platform is not accepted either
    resp = client.get(f"/imapps/dingtalk/callback/?code=x&state={state}")
    assert resp.status_code == 403


def test_user_with_otp_must_still_pass_otp(client, wecom, fake, admin):
    services.sync_run(platform="wecom", actor=admin)
    user = Identity.objects.get(external_id="zhangsan").user
    TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    resp = _scan(client, fake, "wecom", "zhangsan", next_url="/approvals/inbox/")
    assert resp["Location"].startswith("/accounts/2fa/verify/")
    # the OTP middleware keeps the half-logged-in session away from pages
    assert client.get("/approvals/inbox/")["Location"].startswith("/accounts/2fa/verify/")


def test_dingtalk_oauth_login(client, dingtalk, fake, admin):
    services.sync_run(platform="dingtalk", actor=admin)
    resp = _scan(client, fake, "dingtalk", "d-zhang")
    assert resp.status_code == 302
    user = Identity.objects.get(external_id="d-zhang").user
    assert int(client.session["_auth_user_id"]) == user.pk


def test_disabled_platform_login_refused(client, wecom, admin):
    wecom.enabled = False
    services.app_save(app=wecom, secrets={}, actor=admin)
    assert client.get("/imapps/wecom/login/").status_code == 403


def test_inside_wecom_client_uses_silent_authorisation(client, wecom, admin):
    wecom.login_url = ""
    services.app_save(app=wecom, secrets={}, actor=admin)
    resp = client.get("/imapps/wecom/login/", HTTP_USER_AGENT="Mozilla/5.0 wxwork/4.1")
    loc = resp["Location"]
    assert loc.startswith("https://open.weixin.qq.com/connect/oauth2/authorize?")
    assert "scope=snsapi_base" in loc and loc.endswith("#wechat_redirect")
    assert "redirect_uri=http%3A%2F%2Fcredo.test%2Fimapps%2Fwecom%2Fcallback%2F" in loc
    resp = client.get("/imapps/wecom/login/")
    assert resp["Location"].startswith("https://login.work.weixin.qq.com/wwlogin/sso/login?")
