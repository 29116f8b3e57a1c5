"""Pages: permissions, outbox filters, detail actions, channel secrets, template editor, inbox."""

from __future__ import annotations

import pytest
from django.test import Client

from credo.notify import services
from credo.notify.models import Channel, Message, MessageTemplate
from credo.notify.services import notify, send_due
from tests.notify.conftest import at
from tests.notify.test_services import CTX

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_outsider_cannot_see_outbox_or_settings(outsider, borrower):
    [m] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    c = client_for(outsider)
    for url in (
        "/notify/outbox/",
        f"/notify/outbox/{m.pk}/",
        "/notify/channels/",
        "/notify/channels/new/",
        "/notify/templates/",
    ):
        assert c.get(url).status_code == 403, url
    assert c.post(f"/notify/outbox/{m.pk}/cancel/").status_code == 403
    m.refresh_from_db()
    assert m.status == Message.Status.QUEUED


def test_outbox_lists_filters_and_counts(notify_admin, borrower):
    notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    for _ in range(4):
        notify(
            template="test.reminder",
            context=CTX,
            customer=borrower,
            category="collection",
            now=at(11),
        )
    c = client_for(notify_admin)
    resp = c.get("/notify/outbox/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert 'data-status="queued">4<' in html and 'data-status="suppressed">1<' in html
    assert "139****0001" in html and "13900000001" not in html
    resp = c.get("/notify/outbox/?status=suppressed")
    assert resp.context["page"].paginator.count == 1
    resp = c.get(
        "/notify/outbox/?category=service&kind=sms&date_from=2026-03-10&date_to=2026-03-10"
    )
    assert resp.context["page"].paginator.count == 1


def test_detail_retry_and_cancel(notify_admin, borrower):
    [m] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    c = client_for(notify_admin)
    assert "已取消" not in c.get(f"/notify/outbox/{m.pk}/").content.decode()
    c.post(f"/notify/outbox/{m.pk}/cancel/")
    m.refresh_from_db()
    assert m.status == Message.Status.CANCELLED
    resp = c.post(f"/notify/outbox/{m.pk}/cancel/", follow=True)
    assert "只有排队中或发送失败的消息可以取消" in resp.content.decode()
    c.post(f"/notify/outbox/{m.pk}/retry/")
    m.refresh_from_db()
    assert m.status in (Message.Status.QUEUED, Message.Status.SENT)


def test_viewer_without_manage_cannot_retry(borrower, org):
    from django.contrib.auth.models import Permission

    from tests.factories import RoleFactory, UserFactory

    role = RoleFactory(code="mgmt_t", name="管理层T", data_scope="all")
    role.permissions.add(
        Permission.objects.get(content_type__app_label="notify", codename="view_message")
    )
    viewer = UserFactory(username="viewer", org_unit=org["head"], roles=[role])
    [m] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    c = client_for(viewer)
    assert c.get(f"/notify/outbox/{m.pk}/").status_code == 200
    assert c.post(f"/notify/outbox/{m.pk}/cancel/").status_code == 403
    m.refresh_from_db()
    assert m.status == Message.Status.QUEUED


def test_channel_secrets_never_shown_back(notify_admin):
    c = client_for(notify_admin)
    resp = c.post(
        "/notify/channels/new/",
        {
            "name": "钉钉群",
            "engine": "dingtalk_bot",
            "enabled": "on",
            "is_default": "on",
            "webhook_url": "https://oapi.dingtalk.com/robot/send?access_token=TOPSECRET",
            "secret": "SECsecret",
            "timeout_seconds": 10,
            "smtp_security": "starttls",
        },
    )
    assert resp.status_code == 302, resp.content.decode()
    ch = Channel.objects.get(name="钉钉群")
    assert ch.secret == "SECsecret" and ch.is_default
    html = c.get(f"/notify/channels/{ch.pk}/").content.decode()
    assert "TOPSECRET" not in html and "SECsecret" not in html and "已设置" in html
    # saving again with blank secrets keeps them
    resp = c.post(
        f"/notify/channels/{ch.pk}/",
        {
            "name": "钉钉群2",
            "engine": "dingtalk_bot",
            "enabled": "on",
            "timeout_seconds": 10,
            "smtp_security": "starttls",
        },
    )
    assert resp.status_code == 302
    ch.refresh_from_db()
    assert ch.name == "钉钉群2" and ch.secret == "SECsecret" and "TOPSECRET" in ch.webhook_url
    assert "TOPSECRET" not in c.get("/notify/channels/").content.decode()


def test_channel_validation(notify_admin):
    c = client_for(notify_admin)
    resp = c.post(
        "/notify/channels/new/",
        {
            "name": "x",
            "engine": "wecom_bot",
            "webhook_url": "http://insecure",
            "timeout_seconds": 10,
            "smtp_security": "starttls",
        },
    )
    assert resp.status_code == 200 and "https://" in resp.content.decode()
    assert not Channel.objects.exists()


def test_one_default_per_engine(notify_admin):
    a = services.channel_save(
        channel=Channel(name="A", engine="simulated", is_default=True),
        secrets={},
        actor=notify_admin,
    )
    b = services.channel_save(
        channel=Channel(name="B", engine="simulated", is_default=True),
        secrets={},
        actor=notify_admin,
    )
    a.refresh_from_db()
    assert not a.is_default and b.is_default


def test_template_editor_preview_and_syntax_error(notify_admin):
    c = client_for(notify_admin)
    assert c.get("/notify/templates/").status_code == 200
    tpl = MessageTemplate.objects.get(code="test.reminder")
    resp = c.post(
        f"/notify/templates/{tpl.pk}/preview/",
        {
            "subject": "S {{ name }}",
            "body": "B {{ amount }}",
            "sample": '{"name": "甲", "amount": "9"}',
        },
    )
    assert "S 甲" in resp.content.decode() and "B 9" in resp.content.decode()
    resp = c.post(
        f"/notify/templates/{tpl.pk}/preview/", {"subject": "", "body": "{% if x %}", "sample": ""}
    )
    assert "模板语法错误" in resp.content.decode()
    resp = c.post(
        f"/notify/templates/{tpl.pk}/",
        {"name": "改", "subject": "", "body": "{% if name %}未结束", "channels": ["sms"]},
    )
    assert resp.status_code == 200 and "模板语法错误" in resp.content.decode()
    tpl.refresh_from_db()
    assert tpl.version == 1 and tpl.name == "测试还款提醒"
    resp = c.post(
        f"/notify/templates/{tpl.pk}/",
        {"name": "改", "subject": "S", "body": "{{ name }}好", "channels": ["sms"]},
    )
    assert resp.status_code == 302
    tpl.refresh_from_db()
    assert tpl.version == 2 and tpl.body == "{{ name }}好"
    c.post(f"/notify/templates/{tpl.pk}/reset/")
    tpl.refresh_from_db()
    assert tpl.name == "测试还款提醒" and tpl.version == 3


def test_test_send_through_simulated_channel(notify_admin):
    sim = Channel.objects.create(name="模拟", engine="simulated")
    tpl = services.template_get("notify.test")
    c = client_for(notify_admin)
    resp = c.post(
        f"/notify/templates/{tpl.pk}/test/", {"channel": sim.pk, "address": "13800000000"}
    )
    assert resp.status_code == 302
    m = Message.objects.get()
    assert m.channel == sim and m.address_masked == "138****0000"
    send_due()
    m.refresh_from_db()
    assert m.status == Message.Status.SENT
    # without an address the simulated channel stands in for the admin's own inbox
    c.post(f"/notify/channels/{sim.pk}/test/", {"address": ""})
    assert Message.objects.filter(kind="inapp", user=notify_admin).count() == 1
    sms = Channel.objects.create(name="短信", engine="sms_http", url="https://sms.example.com/")
    resp = c.post(f"/notify/channels/{sms.pk}/test/", {"address": ""}, follow=True)
    assert "请填写测试接收地址" in resp.content.decode()
    assert Message.objects.count() == 2


def test_inbox_pages(owner, colleague):
    [m] = notify(template="test.staff", context={"title": "回访"}, user=owner, now=at(10))
    c = client_for(owner)
    html = c.get("/notify/inbox/").content.decode()
    assert "新任务：回访" in html
    assert client_for(colleague).post(f"/notify/inbox/{m.pk}/read/").status_code == 404
    resp = c.post(f"/notify/inbox/{m.pk}/read/", HTTP_HX_REQUEST="true")
    assert resp.status_code == 200 and "credo-read" in resp.content.decode()
    m.refresh_from_db()
    assert m.read_at is not None


def test_unread_count_tag(owner):
    from django.template import Context, Template

    notify(template="test.staff", context={"title": "a"}, user=owner, now=at(10))
    notify(template="test.staff", context={"title": "b"}, user=owner, now=at(10))
    out = Template(
        "{% load notify %}{% unread_count u %}|{% unread_count u as n %}{% if n %}有{% endif %}"
    ).render(Context({"u": owner}))
    assert out == "2|有"
