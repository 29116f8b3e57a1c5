"""notify(): templates, routing, dedupe, guardrails (quiet hours, caps, opt-out), inbox."""

from __future__ import annotations

import pytest
from django.db import connection

from credo.core.audit.models import AuditEntry
from credo.customers.models import CustomerEvent
from credo.notify import services
from credo.notify.errors import InvalidRecipient, InvalidState, InvalidTemplate
from credo.notify.models import Channel, Message, MessageTemplate
from credo.notify.services import notify, register_template, send_due
from tests.notify.conftest import at

pytestmark = pytest.mark.django_db

register_template(
    "test.reminder",
    name="测试还款提醒",
    subject="还款提醒",
    body="{{ name }}您好，您的贷款将于{{ due_date }}到期，应还{{ amount }}元。",
    channels=["sms", "email"],
    sample={"name": "张三", "due_date": "2026-03-15", "amount": "1,000.00"},
)
register_template(
    "test.staff",
    name="测试员工通知",
    subject="新任务：{{ title }}",
    body="请处理：{{ title }}",
    channels=["inapp", "email"],
)
CTX = {"name": "王五", "due_date": "2026-03-15", "amount": "3,210.00"}


def test_template_installed_on_first_use_and_rendered(borrower):
    [msg] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    assert msg.body == "王五您好，您的贷款将于2026-03-15到期，应还3,210.00元。"
    assert msg.subject == "还款提醒"
    assert msg.kind == "sms" and msg.status == Message.Status.QUEUED
    assert msg.params["amount"] == "3,210.00"
    assert msg.address_masked == "139****0001"
    tpl = MessageTemplate.objects.get(code="test.reminder")
    assert tpl.version == 1 and tpl.channels == ["sms", "email"]


def test_lender_edit_is_used_and_registration_never_overwrites(borrower, notify_admin):
    tpl = services.template_get("test.reminder")
    services.template_update(
        template=tpl,
        name="还款提醒（改）",
        subject="【某某小贷】还款提醒",
        body="{{ name }}：请于{{ due_date }}前还款。",
        channels=["sms"],
        actor=notify_admin,
    )
    register_template("test.reminder", name="x", subject="x", body="x", channels=["sms"])
    [msg] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    assert msg.body == "王五：请于2026-03-15前还款。"
    tpl.refresh_from_db()
    assert tpl.version == 2 and tpl.is_customized and tpl.updated_by == notify_admin
    assert AuditEntry.objects.filter(action="notify.template_update").count() == 1


def test_syntax_error_saves_nothing(notify_admin):
    tpl = services.template_get("test.reminder")
    with pytest.raises(InvalidTemplate) as exc:
        services.template_update(
            template=tpl,
            name="坏模板",
            subject="x",
            body="{% if name %}没有结束",
            channels=["sms"],
            actor=notify_admin,
        )
    assert "语法错误" in exc.value.message
    tpl.refresh_from_db()
    assert tpl.name == "测试还款提醒" and tpl.version == 1
    assert not AuditEntry.objects.filter(action="notify.template_update").exists()


def test_templates_cannot_include_files_or_load_libraries():
    with pytest.raises(InvalidTemplate):
        services.template_preview(subject="", body="{% load static %}x", sample={})
    with pytest.raises(InvalidTemplate):
        services.template_preview(subject="", body='{% include "base.html" %}', sample={})


def test_preview_with_sample_json():
    out = services.template_preview(
        subject="Hi {{ a }}", body="<b>{{ a }}</b>", sample='{"a": "x&y"}'
    )
    assert out == {"subject": "Hi x&y", "body": "<b>x&y</b>"}  # plain text: no HTML escaping
    with pytest.raises(InvalidTemplate):
        services.template_preview(subject="", body="x", sample="{bad json")


def test_unknown_template():
    with pytest.raises(InvalidTemplate):
        notify(template="nope", context={}, channel="wecom")


def test_dedupe_key_returns_existing_and_queues_nothing(borrower):
    first = notify(
        template="test.reminder", context=CTX, customer=borrower, dedupe_key="i:1:-3", now=at(10)
    )
    second = notify(
        template="test.reminder", context=CTX, customer=borrower, dedupe_key="i:1:-3", now=at(11)
    )
    assert [m.pk for m in first] == [m.pk for m in second]
    assert Message.objects.count() == 1


def test_quiet_hours_defer_collection_not_service(borrower):
    [coll] = notify(
        template="test.reminder", context=CTX, customer=borrower, category="collection", now=at(23)
    )
    [serv] = notify(
        template="test.reminder", context=CTX, customer=borrower, category="service", now=at(23)
    )
    assert coll.status == Message.Status.QUEUED
    assert coll.scheduled_at == coll.next_attempt_at == at(8, day=11)
    assert serv.scheduled_at == at(23)
    assert send_due(now=at(23, 30)) == {"sent": 1}  # only the service message
    coll.refresh_from_db()
    assert coll.status == Message.Status.QUEUED and coll.attempts == 0
    assert send_due(now=at(8, day=11)) == {"sent": 1}
    coll.refresh_from_db()
    assert coll.status == Message.Status.SENT and coll.sent_at == at(8, day=11)


def test_send_after_in_quiet_hours_moves_to_window_end(borrower):
    [m] = notify(
        template="test.reminder",
        context=CTX,
        customer=borrower,
        category="marketing",
        send_after=at(6, day=11),
        now=at(15),
    )
    assert m.scheduled_at == at(8, day=11)


def test_daily_cap_suppresses_with_reason_and_is_audited(borrower):
    for hour in (9, 10, 11):
        [m] = notify(
            template="test.reminder",
            context=CTX,
            customer=borrower,
            category="collection",
            now=at(hour),
        )
        assert m.status == Message.Status.QUEUED
    [fourth] = notify(
        template="test.reminder", context=CTX, customer=borrower, category="collection", now=at(12)
    )
    assert fourth.status == Message.Status.SUPPRESSED
    assert fourth.suppressed_reason == "超过每日上限：催收类短信每位接收人每天最多 3 条。"
    assert fourth.next_attempt_at is None
    assert AuditEntry.objects.filter(action="notify.suppressed", object_id=str(fourth.pk)).exists()
    # service messages are not capped; the next day starts afresh
    [serv] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(13))
    assert serv.status == Message.Status.QUEUED
    [next_day] = notify(
        template="test.reminder",
        context=CTX,
        customer=borrower,
        category="collection",
        now=at(9, day=11),
    )
    assert next_day.status == Message.Status.QUEUED


def test_deferred_message_counts_against_the_day_it_goes_out(borrower):
    # 23:00 on the 10th → deferred to 08:00 on the 11th → counts for the 11th.
    for _ in range(3):
        notify(
            template="test.reminder",
            context=CTX,
            customer=borrower,
            category="collection",
            now=at(23),
        )
    [m] = notify(
        template="test.reminder",
        context=CTX,
        customer=borrower,
        category="collection",
        now=at(9, day=11),
    )
    assert m.status == Message.Status.SUPPRESSED


def test_opt_out_and_do_not_contact(borrower, owner):
    services.preference_set(customer=borrower, opted_out=["marketing"], actor=owner)
    [m] = notify(
        template="test.reminder", context=CTX, customer=borrower, category="marketing", now=at(10)
    )
    assert m.status == Message.Status.SUPPRESSED and "拒收" in m.suppressed_reason
    [ok] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    assert ok.status == Message.Status.QUEUED
    borrower.risk_flags = ["do_not_contact"]
    borrower.save(update_fields=["risk_flags"])
    [dnc] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    assert dnc.status == Message.Status.SUPPRESSED and "勿联系" in dnc.suppressed_reason


def test_customer_preferred_channel_and_missing_address(borrower, owner):
    services.preference_set(
        customer=borrower, preferred=["email"], email="w5@example.com", actor=owner
    )
    [m] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    assert (
        m.kind == "email"
        and m.address == "w5@example.com"
        and m.address_masked == "w***@example.com"
    )
    borrower.phone = ""
    borrower.save()
    [sms] = notify(
        template="test.reminder", context=CTX, customer=borrower, channel="sms", now=at(10)
    )
    assert sms.status == Message.Status.SUPPRESSED and "短信地址" in sms.suppressed_reason


def test_customer_message_on_timeline(borrower):
    [m] = notify(
        template="test.reminder", context=CTX, customer=borrower, category="collection", now=at(10)
    )
    ev = CustomerEvent.objects.get(customer=borrower, source="notify")
    assert ev.kind == "collection" and ev.object_id == str(m.pk) and "短信" in ev.title


def test_staff_inbox_and_read(owner, colleague):
    owner.email = "owner@example.com"
    owner.save()
    msgs = notify(
        template="test.staff",
        context={"title": "回访客户", "url": "/customers/1/"},
        user=owner,
        now=at(10),
    )
    assert sorted(m.kind for m in msgs) == ["email", "inapp"]
    inapp = next(m for m in msgs if m.kind == "inapp")
    assert (
        inapp.status == Message.Status.SENT
        and inapp.sent_at == at(10)
        and inapp.url == "/customers/1/"
    )
    from credo.notify.selectors import inbox, unread_count

    assert unread_count(owner) == 1 and unread_count(colleague) == 0
    with pytest.raises(InvalidRecipient):
        services.message_mark_read(message=inapp, user=colleague)
    services.message_mark_read(message=inapp, user=owner)
    assert unread_count(owner) == 0 and list(inbox(owner)) == [inapp]


def test_unread_badge_cached_with_a_shared_cache_and_dropped_by_every_write(
    owner, colleague, settings
):
    """With Redis (CREDO_CACHE_SHARED) the header's count is cached per user; a new in-app
    message, marking one read and marking all read each drop the entry at once."""
    from django.core.cache import cache

    from credo.notify.selectors import _unread_key, unread_count

    settings.CREDO_CACHE_SHARED = True
    cache.delete_many([_unread_key(owner.pk), _unread_key(colleague.pk)])
    assert unread_count(owner) == 0
    assert cache.get(_unread_key(owner.pk)) == 0  # cached
    [first] = notify(template="test.staff", context={"title": "一"}, user=owner, now=at(10))
    [second] = notify(template="test.staff", context={"title": "二"}, user=owner, now=at(10))
    assert unread_count(owner) == 2 and unread_count(colleague) == 0
    services.message_mark_read(message=first, user=owner)
    assert unread_count(owner) == 1
    services.inbox_mark_all_read(user=owner)
    assert unread_count(owner) == 0
    # a stale entry (a path that does not drop it) lives at most UNREAD_TTL seconds
    Message.objects.filter(pk=second.pk).update(read_at=None)
    assert unread_count(owner) == 0
    cache.delete(_unread_key(owner.pk))
    assert unread_count(owner) == 1
    # without a shared cache every page counts afresh
    settings.CREDO_CACHE_SHARED = False
    Message.objects.filter(pk=second.pk).update(read_at=at(11))
    assert unread_count(owner) == 0


def test_staff_without_email_gets_inbox_only(owner):
    [m] = notify(template="test.staff", context={"title": "x"}, user=owner, now=at(10))
    assert m.kind == "inapp"


def test_bad_recipients_change_nothing(owner, borrower):
    with pytest.raises(InvalidRecipient):
        notify(template="test.reminder", context=CTX, user=owner, customer=borrower)
    with pytest.raises(InvalidRecipient):
        notify(template="test.reminder", context=CTX, customer=borrower, category="spam")
    with pytest.raises(InvalidRecipient):
        notify(template="test.reminder", context=CTX)
    with pytest.raises(InvalidRecipient):
        notify(template="test.reminder", context=CTX, customer=borrower, channel="fax")
    assert Message.objects.count() == 0


def test_no_channel_configured_in_production_fails_visibly(borrower, settings):
    settings.CREDO_NOTIFY_SIMULATE = False
    [m] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    assert m.status == Message.Status.FAILED and "未配置可用的短信渠道" in m.last_error
    Channel.objects.create(name="短信网关", engine="sms_http", url="https://sms.example.com/send")
    m = services.message_retry(message=m, actor=None, now=at(11))
    assert m.status == Message.Status.QUEUED and m.channel.engine == "sms_http"


def test_simulated_channel_records_what_would_be_sent(borrower):
    [m] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    assert m.channel.engine == "simulated"
    assert send_due(now=at(10)) == {"sent": 1}
    m.refresh_from_db()
    assert m.status == Message.Status.SENT and m.provider_message_id == f"SIM-{m.pk}"
    [attempt] = m.attempt_log.all()
    assert attempt.ok and "王五您好" in attempt.response and "139****0001" in attempt.response


def test_retry_and_cancel_guard_states(borrower, notify_admin):
    [m] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    with pytest.raises(InvalidState):
        services.message_retry(message=m, actor=notify_admin)
    m = services.message_cancel(message=m, actor=notify_admin)
    assert m.status == Message.Status.CANCELLED
    with pytest.raises(InvalidState):
        services.message_cancel(message=m, actor=notify_admin)
    assert send_due(now=at(11)) == {}
    m.refresh_from_db()
    assert m.status == Message.Status.CANCELLED


def test_stale_sending_is_requeued(borrower):
    [m] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    Message.objects.filter(pk=m.pk).update(status="sending", claimed_at=at(10))
    assert send_due(now=at(10, 5)) == {}
    assert send_due(now=at(10, 20)) == {"sent": 1}


def test_on_commit_enqueues_immediate_send(borrower, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        [m] = notify(template="test.reminder", context=CTX, customer=borrower)
    m.refresh_from_db()
    assert m.status == Message.Status.SENT


def test_secrets_and_addresses_encrypted_at_rest(borrower):
    ch = Channel.objects.create(
        name="钉钉",
        engine="dingtalk_bot",
        secret="SECplain123",
        webhook_url="https://oapi.dingtalk.com/robot/send?access_token=tok123",
    )
    [m] = notify(template="test.reminder", context=CTX, customer=borrower, now=at(10))
    with connection.cursor() as cur:
        cur.execute("SELECT secret, webhook_url FROM notify_channel WHERE id = %s", [ch.pk])
        secret, hook = cur.fetchone()
        cur.execute("SELECT address FROM notify_message WHERE id = %s", [m.pk])
        (address,) = cur.fetchone()
    assert "SECplain123" not in secret and "tok123" not in hook
    assert "13900000001" not in address
    ch.refresh_from_db()
    assert ch.secret == "SECplain123"


def test_staff_email_skipped_when_no_email_channel(owner, settings):
    settings.CREDO_NOTIFY_SIMULATE = False
    owner.email = "owner@example.com"
    owner.save()
    msgs = notify(template="test.staff", context={"title": "x"}, user=owner, now=at(10))
    assert [m.kind for m in msgs] == ["inapp"]
    Channel.objects.create(name="邮件", engine="email")
    msgs = notify(template="test.staff", context={"title": "y"}, user=owner, now=at(10))
    assert sorted(m.kind for m in msgs) == ["email", "inapp"]
