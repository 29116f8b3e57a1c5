"""Browser: template editing with preview, a test message via the simulated channel shows as
sent in the outbox; a user reads an in-app message in their inbox."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from credo.notify.models import Channel, Message, MessageTemplate
from credo.notify.services import notify, template_get
from tests.factories import RoleFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_user(db):
    role = RoleFactory(code="notify_admin_e2e", name="通知管理员", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="notify", codename__in=["manage_channels", "view_message"]
        )
    )
    return UserFactory(username="notify_admin_e2e", display_name="赵管理", roles=[role])


def test_edit_template_preview_and_test_send(page, login, admin_user):
    sim = Channel.objects.create(name="演示模拟渠道", engine="simulated", is_default=True)
    tpl = template_get("notify.test")
    login(admin_user)
    page.goto(f"{page.base_url}/notify/templates/")
    page.get_by_role("link", name="测试消息").click()
    page.fill("#id_body", "{{ name }}您好，本月账单金额为 {{ amount }} 元。")
    page.fill("#id_sample", '{"name": "李四", "amount": "1,234.00"}')
    page.click("#preview-btn")
    page.locator("#preview-body").wait_for(state="visible")
    assert page.inner_text("#preview-body") == "李四您好，本月账单金额为 1,234.00 元。"
    # a syntax error is shown in the preview and nothing is saved
    page.fill("#id_body", "{% if name %}未结束")
    page.click("#preview-btn")
    page.locator("#preview-error").wait_for(state="visible")
    assert "模板语法错误" in page.inner_text("#preview-error")
    page.fill("#id_body", "{{ name }}您好，本月账单金额为 {{ amount }} 元。")
    page.get_by_role("button", name="保存").click()
    page.wait_for_load_state("networkidle")
    assert "模板已保存" in page.content()
    tpl.refresh_from_db()
    assert tpl.version == 2 and "账单金额" in tpl.body

    page.select_option("#template-test-form select[name=channel]", str(sim.pk))
    page.fill("#template-test-form input[name=address]", "13800001234")
    page.locator("#template-test-form").get_by_role("button", name="发送测试消息").click()
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#msg-status").strip() == "已发送"
    assert "账单金额" in page.inner_text("#msg-body")
    msg = Message.objects.get()
    assert msg.status == Message.Status.SENT and msg.channel == sim

    page.goto(f"{page.base_url}/notify/outbox/")
    row = page.locator("#outbox-table tbody tr").first
    assert "已发送" in row.inner_text() and "138****1234" in row.inner_text()
    assert "13800001234" not in page.content()
    assert page.console_errors == []


def test_inbox_mark_read(page, login):
    user = UserFactory(username="inbox_user", display_name="钱经理")
    [msg] = notify(template="notify.test", context={"name": "钱经理"}, user=user, channel="inapp")
    assert MessageTemplate.objects.filter(code="notify.test").exists()
    login(user)
    page.goto(f"{page.base_url}/notify/inbox/")
    assert page.inner_text("#inbox-unread") == "1"
    item = page.locator(f"#inbox-{msg.pk}")
    assert "钱经理，您好" in item.inner_text()
    item.get_by_role("button", name="标为已读").click()
    page.locator(f"#inbox-{msg.pk} .credo-read").wait_for(state="visible")
    msg.refresh_from_db()
    assert msg.read_at is not None
    assert page.console_errors == []


def test_channel_form_shows_fields_of_the_selected_type(page, login, admin_user):
    ch = Channel.objects.create(
        name="钉钉群", engine="dingtalk_bot", webhook_url="https://oapi.dingtalk.com/x?t=SECRET1"
    )
    login(admin_user)
    page.goto(f"{page.base_url}/notify/channels/{ch.pk}/")
    assert page.locator("#id_webhook_url").is_visible()
    assert not page.locator("#id_smtp_host").is_visible()
    assert "SECRET1" not in page.content() and "已设置" in page.content()
    page.select_option("#id_engine", "email")
    assert page.locator("#id_smtp_host").is_visible()
    assert not page.locator("#id_webhook_url").is_visible()
    assert page.console_errors == []
