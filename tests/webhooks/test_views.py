"""Pages: permission, create (secret shown once), detail with log filters, test send, redeliver,
enable/disable, reveal."""

from __future__ import annotations

import re

import pytest

from credo.core.audit.models import AuditEntry
from credo.webhooks import services
from credo.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.factories import UserFactory, role_with_perms

pytestmark = pytest.mark.django_db
BASE = "/system/webhooks"


@pytest.fixture
def admin(db):
    role = role_with_perms("hook_admin_role", "all", "webhooks.manage_webhookendpoint")
    return UserFactory(username="hook_page_admin", display_name="吴管理", roles=[role])


def test_pages_need_the_permission(client, outsider):
    client.force_login(outsider)
    assert client.get(f"{BASE}/").status_code == 403
    assert client.get(f"{BASE}/new/").status_code == 403


def test_empty_list_then_create_shows_the_secret_once(client, admin, receiver):
    client.force_login(admin)
    resp = client.get(f"{BASE}/")
    assert resp.status_code == 200 and "尚未配置 Webhook 端点" in resp.content.decode()
    bad = client.post(
        f"{BASE}/new/",
        {
            "name": "核心",
            "url": "ftp://x",
            "timeout_seconds": 10,
            "max_attempts": 6,
            "disable_after_failures": 10,
        },
    )
    text = bad.content.decode()
    assert bad.status_code == 200 and "http://" in text and "请至少订阅一种事件" in text
    assert not WebhookEndpoint.objects.exists()
    resp = client.post(
        f"{BASE}/new/",
        {
            "name": "核心",
            "url": receiver.url,
            "event_types": ["customer.create", "loan.repayment"],
            "timeout_seconds": 5,
            "max_attempts": 3,
            "disable_after_failures": 4,
        },
    )
    endpoint = WebhookEndpoint.objects.get()
    assert resp.status_code == 200 and endpoint.secret in resp.content.decode()
    assert "no-store" in resp["Cache-Control"]
    assert endpoint.created_by == admin and endpoint.max_attempts == 3
    page = client.get(f"{BASE}/{endpoint.pk}/").content.decode()
    assert endpoint.secret not in page and "没有投递记录" in page
    revealed = client.post(f"{BASE}/{endpoint.pk}/secret/").content.decode()
    assert endpoint.secret in revealed
    assert AuditEntry.objects.filter(action="webhooks.endpoint_secret_reveal").count() == 1


def test_test_send_log_filters_and_redeliver(
    client, admin, receiver, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint, _secret = make_endpoint(receiver.url)
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"{BASE}/{endpoint.pk}/test/")
    delivery = WebhookDelivery.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"{BASE}/deliveries/{delivery.pk}/"
    detail = client.get(resp["Location"]).content.decode()
    assert "X-Credo-Signature" in detail and "webhook.test" in detail and "成功" in detail
    receiver.answer(500, "坏了")
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(f"{BASE}/deliveries/{delivery.pk}/redeliver/")
    again = WebhookDelivery.objects.exclude(pk=delivery.pk).get()
    assert resp["Location"] == f"{BASE}/deliveries/{again.pk}/"
    again_page = client.get(resp["Location"]).content.decode()
    assert "坏了" in again_page and "失败待重试" in again_page
    log = client.get(f"{BASE}/{endpoint.pk}/?status=failed").content.decode()
    assert f"#{again.pk}" in log and f">#{delivery.pk}<" not in log
    log = client.get(f"{BASE}/{endpoint.pk}/?status=succeeded").content.decode()
    assert f">#{delivery.pk}<" in log and f">#{again.pk}<" not in log


def test_disable_enable_and_edit(client, admin, make_endpoint):
    endpoint, _secret = make_endpoint("https://h.example.com/in")
    client.force_login(admin)
    form = client.get(f"{BASE}/{endpoint.pk}/edit/").content.decode()
    assert 'value="https://h.example.com/in"' in form and 'value="核心系统"' in form
    assert re.search(
        r'<input type="checkbox" name="event_types" value="customer.create"[^>]* checked', form
    )
    assert len(re.findall(r'name="event_types"[^>]* checked', form)) == 1
    client.post(f"{BASE}/{endpoint.pk}/disable/", {"reason": "维护"})
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason == "维护"
    resp = client.post(f"{BASE}/{endpoint.pk}/test/", follow=True)
    assert "已停用" in resp.content.decode()
    client.post(f"{BASE}/{endpoint.pk}/enable/")
    endpoint.refresh_from_db()
    assert endpoint.enabled
    resp = client.post(
        f"{BASE}/{endpoint.pk}/edit/",
        {
            "name": "新名字",
            "url": "https://h.example.com/v2",
            "all_events": "on",
            "timeout_seconds": 10,
            "max_attempts": 6,
            "disable_after_failures": 10,
        },
    )
    assert resp.status_code == 302
    endpoint.refresh_from_db()
    assert endpoint.name == "新名字" and endpoint.event_types == ["all"]
    assert "全部事件" in client.get(f"{BASE}/").content.decode()


def test_admin_role_has_the_permission():
    from credo.core.roles import registered_permissions

    assert {"webhooks.manage_webhookendpoint", "webhooks.view_webhookendpoint"} <= set(
        registered_permissions("admin")
    )
    assert services.TEST_EVENT == "webhook.test"
