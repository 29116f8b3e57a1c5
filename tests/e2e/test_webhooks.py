"""Browser: create a webhook endpoint pointing at a local receiver, send a test event, see it in
the delivery log, open it and redeliver it."""

from __future__ import annotations

import json

import pytest

from credo.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.e2e.axe import BLOCKING, violations
from tests.factories import UserFactory, role_with_perms
from tests.webhooks.conftest import receiver  # noqa: F401 — the local HTTP receiver fixture

pytestmark = pytest.mark.django_db(transaction=True)


def _accessible(page) -> None:
    bad = [v for v in violations(page) if v["impact"] in BLOCKING]
    assert not bad, bad


@pytest.fixture
def hook_admin(db):
    role = role_with_perms("hook_admin_e2e", "all", "webhooks.manage_webhookendpoint")
    return UserFactory(username="hook_admin_e2e", display_name="孙管理", roles=[role])


def test_create_endpoint_send_test_event_and_redeliver(page, login, hook_admin, receiver):  # noqa: F811
    login(hook_admin)
    page.goto(f"{page.base_url}/system/webhooks/")
    assert "尚未配置 Webhook 端点" in page.content()
    page.locator(".page-header, .page-title, body").get_by_role(
        "link", name="新增端点"
    ).first.click()
    _accessible(page)
    page.fill("#id_name", "风控数据仓库")
    page.fill("#id_url", receiver.url)
    page.check("#id_all_events")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state("networkidle")
    endpoint = WebhookEndpoint.objects.get()
    assert page.input_value("#endpoint-secret") == endpoint.secret

    page.get_by_role("button", name="发送测试事件").click()
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#delivery-status").strip() == "成功"
    assert "X-Credo-Signature" in page.inner_text("#request-headers")
    assert len(receiver.requests) == 1
    assert json.loads(receiver.requests[0].body)["type"] == "webhook.test"

    page.get_by_role("link", name="风控数据仓库").click()
    page.wait_for_load_state("networkidle")
    rows = page.locator("#delivery-table tbody tr")
    assert rows.count() == 1 and "webhook.test" in rows.first.inner_text()
    assert endpoint.secret not in page.content()
    _accessible(page)
    rows.first.get_by_role("link").first.click()
    page.wait_for_load_state("networkidle")
    receiver.answer(500, "接收方故障")
    page.get_by_role("button", name="重新投递").click()
    page.wait_for_load_state("networkidle")
    assert "已重新投递" in page.content()
    assert page.inner_text("#delivery-status").strip() == "失败待重试"
    assert "接收方故障" in page.inner_text("#delivery-response")
    assert WebhookDelivery.objects.count() == 2 and len(receiver.requests) == 2
    _accessible(page)
    assert page.console_errors == []
