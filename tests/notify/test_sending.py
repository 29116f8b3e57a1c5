"""The sender against fake gateways: backoff, failure after max attempts, signatures, bots."""

from __future__ import annotations

import datetime as dt
import json
import urllib.parse

import pytest
from django.core import mail

from credo.notify import gateways
from credo.notify.errors import GatewayError
from credo.notify.models import Channel, Message
from credo.notify.services import notify, send_due
from credo.notify.signing import dingtalk_sign, sms_signature
from tests.notify.conftest import at
from tests.notify.test_services import CTX

pytestmark = pytest.mark.django_db


@pytest.fixture
def sms_channel(db):
    return Channel.objects.create(
        name="短信网关",
        engine="sms_http",
        url="https://sms.example.com/send",
        app_key="APPK",
        secret="s3cret",
        template_map={"test.reminder": "SMS_001"},
        request_format={"success_path": "code", "success_value": "0", "message_id_path": "data.id"},
        is_default=True,
    )


@pytest.fixture
def calls(monkeypatch):
    """Replace the HTTP call; ``calls.reply`` is (status, text) or an exception to raise."""

    class Calls(list):
        reply: object = (200, '{"code": 0, "data": {"id": "P-1"}}')

    recorded = Calls()

    def fake(url, body, headers, timeout):
        recorded.append({"url": url, "body": body, "headers": headers, "timeout": timeout})
        if isinstance(recorded.reply, Exception):
            raise recorded.reply
        return recorded.reply

    monkeypatch.setattr(gateways, "http_post", fake)
    return recorded


def test_sms_request_signed_and_mapped(borrower, sms_channel, calls):
    [m] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    assert send_due(now=at(10)) == {"sent": 1}
    m.refresh_from_db()
    assert m.status == Message.Status.SENT and m.provider_message_id == "P-1"
    [call] = calls
    body = json.loads(call["body"])
    assert body["phone"] == "13900000001" and body["template_id"] == "SMS_001"
    assert body["params"] == {"name": "王五", "due_date": "2026-03-15", "amount": "3,210.00"}
    h = call["headers"]
    expected = sms_signature(
        "s3cret", "APPK" + h["X-Timestamp"] + h["X-Nonce"] + call["body"].decode()
    )
    assert h["X-Signature"] == expected and h["X-App-Key"] == "APPK"
    assert call["timeout"] == 10


def test_broken_gateway_backoff_exact_then_failed(borrower, sms_channel, calls):
    calls.reply = GatewayError("网关连接失败：Connection refused")
    [m] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    t = at(10)
    expected_delays = [1, 5, 25, 125]
    for n, delay in enumerate(expected_delays, start=1):
        assert send_due(now=t) == {"retry": 1}
        m.refresh_from_db()
        assert m.status == Message.Status.QUEUED and m.attempts == n
        assert m.next_attempt_at == t + dt.timedelta(minutes=delay)
        assert send_due(now=m.next_attempt_at - dt.timedelta(seconds=1)) == {}
        t = m.next_attempt_at
    assert send_due(now=t) == {"failed": 1}
    m.refresh_from_db()
    assert m.status == Message.Status.FAILED and m.attempts == 5 and m.next_attempt_at is None
    assert "Connection refused" in m.last_error
    assert [a.ok for a in m.attempt_log.all()] == [False] * 5
    assert len(calls) == 5
    # never lost: an admin retries after the gateway is fixed
    from credo.notify.services import message_retry

    calls.reply = (200, '{"code": 0, "data": {"id": "P-9"}}')
    message_retry(message=m, actor=None, now=t)
    assert send_due(now=t) == {"sent": 1}
    m.refresh_from_db()
    assert m.status == Message.Status.SENT and m.attempt_log.count() == 6


def test_http_5xx_retries_4xx_fails_at_once(borrower, sms_channel, calls):
    calls.reply = (503, "busy")
    [m] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    assert send_due(now=at(10)) == {"retry": 1}
    calls.reply = (401, '{"error": "bad signature"}')
    assert send_due(now=at(10, 1)) == {"failed": 1}
    m.refresh_from_db()
    assert m.status == Message.Status.FAILED and "401" in m.last_error


def test_business_failure_code_is_retried(borrower, sms_channel, calls):
    calls.reply = (200, '{"code": 1001, "msg": "余额不足"}')
    notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    assert send_due(now=at(10)) == {"retry": 1}


def test_missing_template_mapping_fails_permanently(borrower, sms_channel, calls):
    sms_channel.template_map = {"other": "SMS_9"}
    sms_channel.save()
    [m] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    assert send_due(now=at(10)) == {"failed": 1}
    m.refresh_from_db()
    assert "test.reminder" in m.last_error and calls == []


def test_retry_falling_into_quiet_hours_waits_without_using_an_attempt(
    borrower, sms_channel, calls
):
    calls.reply = (503, "busy")
    [m] = notify(
        template="test.reminder",
        context=CTX,
        customer=borrower,
        category="collection",
        now=at(21, 59),
    )
    assert send_due(now=at(21, 59)) == {"retry": 1}
    assert send_due(now=at(22, 0)) == {"deferred": 1}
    m.refresh_from_db()
    assert m.attempts == 1 and m.next_attempt_at == at(8, day=11)


def test_dingtalk_group_message_signed(calls):
    Channel.objects.create(
        name="钉钉群",
        engine="dingtalk_bot",
        webhook_url="https://oapi.dingtalk.com/robot/send?access_token=T",
        secret="SECx",
    )
    calls.reply = (200, '{"errcode": 0, "errmsg": "ok"}')
    [m] = notify(template="notify.test", context={"name": "全体"}, channel="dingtalk", now=at(10))
    assert m.user is None and m.customer is None
    assert send_due(now=at(10)) == {"sent": 1}
    url = calls[0]["url"]
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["access_token"] == ["T"]
    ts = int(query["timestamp"][0])
    assert urllib.parse.quote_plus(query["sign"][0]) == dingtalk_sign("SECx", ts)
    payload = json.loads(calls[0]["body"])
    assert payload["msgtype"] == "text" and "全体，您好" in payload["text"]["content"]


def test_wecom_error_code_is_a_failure(calls):
    Channel.objects.create(
        name="企业微信群", engine="wecom_bot", webhook_url="https://qyapi.weixin.qq.com/x?key=K"
    )
    calls.reply = (200, '{"errcode": 93000, "errmsg": "invalid webhook url"}')
    [m] = notify(template="notify.test", context={"name": "x"}, channel="wecom", now=at(10))
    assert send_due(now=at(10)) == {"retry": 1}
    m.refresh_from_db()
    assert "93000" in m.last_error


def test_email_through_default_connection(owner):
    owner.email = "owner@example.com"
    owner.save()
    Channel.objects.create(name="邮件", engine="email", from_email="noreply@example.com")
    msgs = notify(
        template="notify.test", context={"name": "张经理"}, user=owner, channel="email", now=at(10)
    )
    assert send_due(now=at(10)) == {"sent": 1}
    [email] = mail.outbox
    assert email.to == ["owner@example.com"] and email.subject == "测试消息"
    assert "张经理，您好" in email.body and msgs[0].address_masked == "o***@example.com"
