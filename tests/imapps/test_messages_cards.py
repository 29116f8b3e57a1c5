from __future__ import annotations

import re

import pytest

from credo.approvals.models import ApprovalTask
from credo.core.audit.models import AuditEntry
from credo.core.events.stream import events_pump
from credo.core.todo.services import todo_create
from credo.imapps import services, signing, wecom_crypto
from credo.imapps.models import Identity, UsedLink
from credo.notify.models import Message
from credo.notify.services.sending import send_one

pytestmark = pytest.mark.django_db


def _link(user, pk):
    Identity.objects.create(platform="wecom", external_id=f"u{user.pk}", user=user, name=str(user))


def _pump_and_send():
    events_pump()
    for msg in Message.objects.filter(template_code="imapps.card", status="queued"):
        send_one(msg.pk)


def test_todo_becomes_wecom_text_card(wecom, fake, colleague):
    events_pump()  # the consumer's cursor starts at the head
    _link(colleague, 0)
    todo_create(user=colleague, title="回访客户", description="请今天回访", url="/customers/1/")
    _pump_and_send()
    msg = Message.objects.get(template_code="imapps.card")
    assert msg.status == "sent", msg.last_error
    assert msg.channel.engine == "wecom_app" and msg.kind == "wecom"
    sent = fake.sent[-1]
    assert sent["msgtype"] == "textcard" and sent["touser"] == f"u{colleague.pk}"
    assert sent["agentid"] == 1000002
    assert sent["textcard"]["title"] == "回访客户"
    assert sent["textcard"]["url"] == "http://credo.test/customers/1/"
    # a second pump (redelivery) queues nothing twice
    events_pump()
    assert Message.objects.filter(template_code="imapps.card").count() == 1


def test_user_without_identity_gets_no_card(wecom, fake, outsider):
    events_pump()
    todo_create(user=outsider, title="无身份")
    _pump_and_send()
    assert not Message.objects.filter(template_code="imapps.card").exists()


def test_send_failure_timeout_is_retried_and_bad_config_permanent(wecom, fake, colleague):
    events_pump()
    _link(colleague, 0)
    todo_create(user=colleague, title="超时")
    events_pump()
    msg = Message.objects.get(template_code="imapps.card")
    wecom.timeout_seconds = 1
    wecom.save(update_fields=["timeout_seconds"])
    fake.delay = 1.5
    assert send_one(msg.pk) == "retry"
    msg.refresh_from_db()
    assert "超时" in msg.last_error and msg.status == "queued"


def test_dingtalk_approval_card_has_both_buttons(dingtalk, fake, start, approvers):
    events_pump()
    lead = approvers["lead"]
    Identity.objects.create(platform="dingtalk", external_id="d-lead", user=lead)
    start(amount=20_000_000)
    _pump_and_send()
    sent = [s for s in fake.sent if s["platform"] == "dingtalk"][-1]
    card = sent["msg"]["action_card"]
    assert sent["userid_list"] == "d-lead" and sent["msg"]["msgtype"] == "action_card"
    assert [b["title"] for b in card["btn_json_list"]] == ["同意", "驳回"]
    assert all(
        b["action_url"].startswith("http://credo.test/imapps/card/") for b in card["btn_json_list"]
    )


def _approval_link(start, approvers, action="approve", user=None):
    instance = start(amount=20_000_000)
    task = ApprovalTask.objects.get(instance=instance, status="open")
    user = user or task.assignee
    token = signing.link_make(platform="wecom", task_id=task.pk, user_id=user.pk, action=action)
    return task, f"/imapps/card/{token}/", token


def test_card_approve_calls_the_same_service(client, wecom, start, approvers):
    task, url, token = _approval_link(start, approvers)
    client.force_login(task.assignee)
    page = client.get(url)
    assert page.status_code == 200 and "审批确认" in page.content.decode()
    resp = client.post(url, {"action": "approve", "comment": "同意"})
    assert resp.status_code == 200 and "已同意" in resp.content.decode()
    task.refresh_from_db()
    assert task.status == "approved"
    assert AuditEntry.objects.filter(action="approval.approve", actor_id=task.assignee_id).exists()
    assert AuditEntry.objects.filter(action="imapps.card_act").exists()
    assert UsedLink.objects.count() == 1
    # single use
    again = client.get(url)
    assert again.status_code == 403 and "已使用" in again.content.decode()


def test_card_reject_needs_reason_like_the_page(client, wecom, start, approvers):
    task, url, _token = _approval_link(start, approvers, action="reject")
    client.force_login(task.assignee)
    resp = client.post(url, {"action": "reject", "comment": ""})
    assert "请填写拒绝原因" in resp.content.decode()
    task.refresh_from_db()
    assert task.status == "open" and not UsedLink.objects.exists()
    resp = client.post(url, {"action": "reject", "comment": "资料不全"})
    task.refresh_from_db()
    assert task.status == "rejected"


def test_self_approval_refused_and_audited_as_on_the_page(client, wecom, start, approvers, owner):
    # the applicant holds a (validly signed) link: segregation of duties still refuses
    task, url, _token = _approval_link(start, approvers, user=owner)
    client.force_login(owner)
    resp = client.post(url, {"action": "approve", "comment": ""})
    task.refresh_from_db()
    assert task.status == "open"
    assert AuditEntry.objects.filter(action="approval.refused", actor_id=owner.pk).exists()
    assert resp.status_code == 200 and "alert-danger" in resp.content.decode()


def test_forged_expired_and_foreign_links_refused_and_audited(
    client, wecom, start, approvers, owner
):
    task, url, token = _approval_link(start, approvers)
    client.force_login(task.assignee)
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    resp = client.get(f"/imapps/card/{forged}/")
    assert resp.status_code == 403 and "签名无效" in resp.content.decode()
    assert AuditEntry.objects.filter(
        action="imapps.card_refused", metadata__reason="bad_signature"
    ).exists()
    with pytest.raises(signing.LinkInvalid) as exc:
        signing.link_read(token, max_age=-1)
    assert exc.value.reason == "expired"
    # another logged-in user
    client.force_login(owner)
    resp = client.get(url)
    assert resp.status_code == 403 and "不属于" in resp.content.decode()
    assert AuditEntry.objects.filter(metadata__reason="other_user").exists()
    task.refresh_from_db()
    assert task.status == "open"


def test_expired_link_page(client, wecom, start, approvers, monkeypatch):
    task, url, _token = _approval_link(start, approvers)
    client.force_login(task.assignee)
    monkeypatch.setattr(signing, "LINK_MAX_AGE", -1)
    resp = client.get(url)
    assert resp.status_code == 403 and "已过期" in resp.content.decode()


def test_anonymous_card_goes_through_platform_login(client, wecom, start, approvers):
    _task, url, _token = _approval_link(start, approvers)
    resp = client.get(url)
    assert resp.status_code == 302 and resp["Location"].startswith("/imapps/wecom/login/?next=")


def test_wecom_callback_url_signature(client, wecom, admin):
    aes = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
    services.app_save(
        app=wecom, secrets={"callback_token": "cbtoken", "callback_aes_key": aes}, actor=admin
    )
    echo = wecom_crypto.encrypt(aes, "hello-echo", wecom.corp_id)
    sig = wecom_crypto.signature("cbtoken", "1700000000", "n1", echo)
    q = {"msg_signature": sig, "timestamp": "1700000000", "nonce": "n1", "echostr": echo}
    resp = client.get("/imapps/wecom/event/", q)
    assert resp.status_code == 200 and resp.content == b"hello-echo"
    resp = client.get("/imapps/wecom/event/", {**q, "msg_signature": "0" * 40})
    assert resp.status_code == 403
    assert AuditEntry.objects.filter(action="imapps.callback_refused").exists()
    body = f"<xml><Encrypt><![CDATA[{echo}]]></Encrypt></xml>"
    resp = client.post(
        "/imapps/wecom/event/?" + "&".join(f"{k}={v}" for k, v in q.items() if k != "echostr"),
        body,
        content_type="text/xml",
    )
    assert resp.status_code == 200 and resp.content == b"success"
    assert re.fullmatch(r"[0-9a-f]{40}", sig)
