from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from credo.core.audit.models import AuditEntry
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def code_for(device: TOTPDevice, offset: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset):06d}"


def reset_throttle(device: TOTPDevice) -> None:
    """django-otp throttles after a wrong code (1 s, 2 s, ...); tests don't wait."""
    TOTPDevice.objects.filter(pk=device.pk).update(
        throttling_failure_count=0, throttling_failure_timestamp=None
    )


def post_login(client, username: str, password: str):
    return client.post(LOGIN, {"username": username, "password": password})


def test_login_page_is_chinese_and_styled(client):
    html = client.get(LOGIN).content.decode()
    assert "Credo 信贷客户管理系统" in html and "card" in html
    resp = client.post(LOGIN, {"username": "", "password": ""})
    assert "请输入用户名" in resp.content.decode()


def test_successful_login_and_logout_are_audited(client, owner):
    resp = post_login(client, "owner", PASSWORD)
    assert resp.status_code == 302
    entry = AuditEntry.objects.get(action="auth.login")
    assert entry.actor_id == owner.pk
    client.post(reverse("accounts:logout"))
    assert AuditEntry.objects.filter(action="auth.logout", actor_id=owner.pk).exists()


def test_failed_login_audited_without_password(client, owner):
    resp = post_login(client, "owner", "Wrong-Secret-999")
    assert resp.status_code == 200
    assert "用户名或密码错误" in resp.content.decode()
    entry = AuditEntry.objects.get(action="auth.login_failed")
    assert entry.metadata == {"username": "owner"}
    dump = str(entry.metadata) + str(entry.changes) + entry.object_repr
    assert "Wrong-Secret" not in dump


def test_lockout_after_five_failures(client, owner, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    for _ in range(4):
        assert post_login(client, "owner", "bad-password").status_code == 200
    resp = post_login(client, "owner", "bad-password")
    assert resp.status_code == 403
    assert "临时锁定" in resp.content.decode()
    # even the right password is refused now
    resp = post_login(client, "owner", PASSWORD)
    assert resp.status_code == 403
    assert "_auth_user_id" not in client.session
    assert AuditEntry.objects.filter(action="auth.locked_out").exists()
    assert AuditEntry.objects.filter(action="auth.login_failed").count() >= 5


def test_otp_setup_confirm_and_then_required_at_login(client, owner):
    client.force_login(owner)
    resp = client.get(reverse("accounts:otp_setup"))
    html = resp.content.decode()
    assert "data:image/svg+xml;base64," in html
    device = TOTPDevice.objects.get(user=owner, confirmed=False)
    assert resp.context["secret"] in html
    resp = client.post(reverse("accounts:otp_setup"), {"code": "000000"})
    assert "验证码不正确" in resp.content.decode()
    reset_throttle(device)
    resp = client.post(reverse("accounts:otp_setup"), {"code": code_for(device)})
    assert resp.status_code == 302
    device.refresh_from_db()
    assert device.confirmed
    assert AuditEntry.objects.filter(action="otp.enable", actor_id=owner.pk).exists()

    # a fresh password login must pass the OTP check before reaching the app
    client.logout()
    resp = post_login(client, "owner", PASSWORD)
    assert resp.status_code == 302 and reverse("accounts:otp_verify") in resp["Location"]
    assert client.get("/").status_code == 302  # middleware blocks unverified session
    resp = client.post(reverse("accounts:otp_verify"), {"code": "123456"})
    assert "验证码不正确" in resp.content.decode()
    reset_throttle(device)
    # the setup code's time step is spent (replay protection): use the next step
    resp = client.post(reverse("accounts:otp_verify"), {"code": code_for(device, 1)})
    assert resp.status_code == 302
    assert client.get("/").status_code == 200
    assert AuditEntry.objects.filter(action="otp.verify").exists()
    assert AuditEntry.objects.filter(action="otp.verify_failed").exists()


def test_otp_disable_requires_current_code(client, owner):
    device = TOTPDevice.objects.create(user=owner, name="TOTP", confirmed=True)
    client.force_login(owner)
    resp = client.post(reverse("accounts:otp_disable"), {"code": "000000"})
    assert resp.status_code == 200
    assert TOTPDevice.objects.filter(user=owner).exists()
    reset_throttle(device)
    resp = client.post(reverse("accounts:otp_disable"), {"code": code_for(device)})
    assert resp.status_code == 302
    assert not TOTPDevice.objects.filter(user=owner).exists()
    assert AuditEntry.objects.filter(action="otp.disable").exists()


def test_unverified_session_cannot_reach_account_admin_pages(client, admin_user):
    TOTPDevice.objects.create(user=admin_user, name="TOTP", confirmed=True)
    client.force_login(admin_user)  # password-only session, no OTP yet
    for name in ("accounts:user_list", "accounts:role_list", "accounts:profile"):
        resp = client.get(reverse(name))
        assert resp.status_code == 302, name
        assert reverse("accounts:otp_verify") in resp["Location"]
    assert client.get(reverse("accounts:otp_verify")).status_code == 200


def test_required_2fa_without_device_goes_to_setup(client, owner, settings):
    settings.CREDO_REQUIRE_2FA = True
    client.force_login(owner)
    resp = client.get(reverse("accounts:profile"))
    assert resp.status_code == 302 and resp["Location"] == reverse("accounts:otp_setup")
    assert client.get(reverse("accounts:otp_setup")).status_code == 200
