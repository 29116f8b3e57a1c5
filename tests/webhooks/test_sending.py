"""Signing, retries with back-off, bad responses, timeouts, dead deliveries and auto-disable,
against a real local HTTP server."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time

import pytest
from django.utils import timezone

from credo.core.audit.models import AuditEntry
from credo.core.todo.models import Todo
from credo.notify.models import Message
from credo.webhooks import services, signing
from credo.webhooks.errors import EndpointDisabled
from credo.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

pytestmark = pytest.mark.django_db
S = WebhookDelivery.Status


def _emit(endpoint, key="k1", payload=None, event_type="loan.repayment"):
    return services.webhook_emit(
        endpoint_id=endpoint.pk,
        event_type=event_type,
        payload=payload if payload is not None else {"amount": "12.34", "名称": "还款"},
        idempotency_key=key,
    )


def test_a_delivery_is_posted_signed_and_logged(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint, secret = make_endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = _emit(endpoint)
    [req] = receiver.requests
    assert req.path == "/hook"
    assert json.loads(req.body) == {"amount": "12.34", "名称": "还款"}
    ts = req.headers["X-Credo-Timestamp"]
    assert abs(int(ts) - time.time()) < 30
    expected = hmac.new(secret.encode(), f"{ts}.".encode() + req.body, hashlib.sha256).hexdigest()
    assert req.headers["X-Credo-Signature"] == f"sha256={expected}"
    assert req.headers["X-Credo-Event"] == "loan.repayment"
    assert req.headers["X-Credo-Delivery"] == str(delivery.pk)
    assert signing.verify(secret, ts, req.body, req.headers["X-Credo-Signature"], now=time.time())
    assert not signing.verify(
        "whsec_other", ts, req.body, req.headers["X-Credo-Signature"], now=time.time()
    )
    delivery.refresh_from_db()
    assert delivery.status == S.SUCCEEDED and delivery.attempts == 1
    assert delivery.response_code == 200 and delivery.response_body == "ok"
    assert delivery.delivered_at is not None and delivery.next_attempt_at is None
    [attempt] = WebhookAttempt.objects.filter(delivery=delivery)
    assert attempt.ok and attempt.request_headers["X-Credo-Signature"].startswith("sha256=")
    assert secret not in json.dumps(attempt.request_headers)


def test_emit_is_idempotent_and_refuses_a_disabled_endpoint(receiver, make_endpoint, creator):
    endpoint, _secret = make_endpoint(receiver.url)
    first = _emit(endpoint, key="same")
    again = _emit(endpoint, key="same", payload={"other": 1})
    assert first.pk == again.pk and again.payload == {"amount": "12.34", "名称": "还款"}
    services.endpoint_disable(endpoint=endpoint, actor=creator)
    with pytest.raises(EndpointDisabled):
        _emit(endpoint, key="new")
    assert WebhookDelivery.objects.count() == 1


def test_bad_response_is_retried_with_backoff_then_succeeds(
    receiver, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint, _secret = make_endpoint(receiver.url)
    receiver.answer(500, "内部错误")
    before = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        delivery = _emit(endpoint)
    delivery.refresh_from_db()
    assert delivery.status == S.FAILED and delivery.attempts == 1
    assert delivery.response_code == 500 and delivery.response_body == "内部错误"
    assert "HTTP 500" in delivery.error
    wait = delivery.next_attempt_at - before
    assert dt.timedelta(seconds=59) <= wait <= dt.timedelta(seconds=70)  # first back-off: 1 min
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 1
    # not due yet: the sweep leaves it alone
    assert services.send_due(now=timezone.now()) == {"released": 0}
    assert len(receiver.requests) == 1
    # due: the second attempt succeeds (the receiver answers 200 by default)
    counts = services.send_due(now=delivery.next_attempt_at + dt.timedelta(seconds=1))
    assert counts == {"released": 0, "succeeded": 1}
    delivery.refresh_from_db()
    assert delivery.status == S.SUCCEEDED and delivery.attempts == 2
    assert list(delivery.attempt_log.values_list("ok", "response_code")) == [
        (False, 500),
        (True, 200),
    ]
    endpoint.refresh_from_db()
    assert endpoint.consecutive_failures == 0 and endpoint.last_success_at is not None


def test_backoff_schedule(settings):
    settings.CREDO_WEBHOOK_BACKOFF_MINUTES = [1, 5, 30, 120, 720]
    assert [services.retry_delay(n) for n in range(1, 8)] == [
        dt.timedelta(minutes=m) for m in (1, 5, 30, 120, 720, 720, 720)
    ]


def test_timeout_is_a_failure(receiver, make_endpoint, django_capture_on_commit_callbacks):
    endpoint, _secret = make_endpoint(receiver.url, timeout_seconds=1)
    receiver.answer(200, "slow", delay=2.5)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = _emit(endpoint)
    delivery.refresh_from_db()
    assert delivery.status == S.FAILED
    assert delivery.response_code is None and "超时" in delivery.error
    assert 900 <= delivery.duration_ms < 2400


def test_connection_error_is_a_failure(
    closed_port_url, make_endpoint, django_capture_on_commit_callbacks
):
    endpoint, _secret = make_endpoint(closed_port_url)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = _emit(endpoint)
    delivery.refresh_from_db()
    assert delivery.status == S.FAILED and "连接失败" in delivery.error


def test_redirect_is_not_followed(receiver, make_endpoint, django_capture_on_commit_callbacks):
    endpoint, _secret = make_endpoint(receiver.url)
    receiver.answer(302, "")
    with django_capture_on_commit_callbacks(execute=True):
        delivery = _emit(endpoint)
    delivery.refresh_from_db()
    assert delivery.status == S.FAILED and delivery.response_code == 302
    assert len(receiver.requests) == 1


def test_attempts_spent_makes_it_dead(receiver, make_endpoint, django_capture_on_commit_callbacks):
    endpoint, _secret = make_endpoint(receiver.url, max_attempts=2)
    receiver.answer(503, "busy", times=5)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = _emit(endpoint)
    delivery.refresh_from_db()
    services.send_due(now=delivery.next_attempt_at + dt.timedelta(seconds=1))
    delivery.refresh_from_db()
    assert delivery.status == S.DEAD and delivery.attempts == 2 and delivery.next_attempt_at is None
    services.send_due(now=timezone.now() + dt.timedelta(days=2))
    assert len(receiver.requests) == 2


def test_consecutive_failures_disable_the_endpoint_and_tell_its_creator(
    receiver, make_endpoint, creator, django_capture_on_commit_callbacks
):
    endpoint, secret = make_endpoint(receiver.url, disable_after_failures=3)
    receiver.answer(500, "down", times=10)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(3):
            _emit(endpoint, key=f"k{n}")
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.consecutive_failures == 3
    assert "连续 3 次推送失败" in endpoint.disabled_reason
    todo = Todo.objects.get(user=creator, source="webhooks")
    assert "核心系统" in todo.title and todo.url.endswith(f"/system/webhooks/{endpoint.pk}/")
    msg = Message.objects.get(user=creator, template_code="webhooks.endpoint_disabled")
    assert "连续 3 次推送失败" in msg.body
    audit = AuditEntry.objects.get(action="webhooks.endpoint_auto_disable")
    assert audit.object_id == str(endpoint.pk) and audit.metadata["consecutive_failures"] == 3
    # disabled: due retries are not sent
    sent = len(receiver.requests)
    services.send_due(now=timezone.now() + dt.timedelta(hours=1))
    assert len(receiver.requests) == sent == 3
    # enabling starts the count again and the waiting retries go out
    services.endpoint_enable(endpoint=endpoint, actor=creator)
    receiver.answers.clear()
    counts = services.send_due(now=timezone.now() + dt.timedelta(hours=1))
    assert counts.get("succeeded") == 3
    endpoint.refresh_from_db()
    assert endpoint.enabled and endpoint.consecutive_failures == 0
    assert secret not in json.dumps(list(AuditEntry.objects.values("changes", "metadata")))


def test_redelivery_creates_a_new_audited_delivery(
    receiver, make_endpoint, creator, django_capture_on_commit_callbacks
):
    endpoint, _secret = make_endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        first = _emit(endpoint)
    with django_capture_on_commit_callbacks(execute=True):
        again = services.delivery_redeliver(delivery=first, actor=creator)
    assert again.pk != first.pk and again.redelivery_of_id == first.pk
    again.refresh_from_db()
    assert again.status == S.SUCCEEDED and again.payload == first.payload
    assert [r.headers["X-Credo-Delivery"] for r in receiver.requests] == [
        str(first.pk),
        str(again.pk),
    ]
    assert receiver.requests[0].body == receiver.requests[1].body
    assert AuditEntry.objects.filter(
        action="webhooks.delivery_redeliver", object_id=str(first.pk)
    ).exists()
    services.endpoint_disable(endpoint=endpoint, actor=creator)
    with pytest.raises(EndpointDisabled):
        services.delivery_redeliver(delivery=first, actor=creator)


def test_test_event(receiver, make_endpoint, creator, django_capture_on_commit_callbacks):
    endpoint, _secret = make_endpoint(receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        delivery = services.webhook_send_test(endpoint=endpoint, actor=creator)
    [req] = receiver.requests
    body = json.loads(req.body)
    assert body["type"] == "webhook.test" and body["metadata"]["test"] is True
    assert req.headers["X-Credo-Event"] == "webhook.test"
    delivery.refresh_from_db()
    assert delivery.is_test and delivery.status == S.SUCCEEDED


def test_a_dead_worker_claim_is_released(receiver, make_endpoint):
    endpoint, _secret = make_endpoint(receiver.url)
    delivery = _emit(endpoint)
    now = timezone.now()
    assert services._claim(WebhookDelivery.objects.filter(pk=delivery.pk), now, 5) == [delivery.pk]
    # claimed again while held: nothing
    assert services._claim(services._due(now), now, 5) == []
    later = now + services.STALE_SENDING + dt.timedelta(seconds=1)
    counts = services.send_due(now=later)
    assert counts == {"released": 1, "succeeded": 1}


def test_secret_is_encrypted_at_rest(make_endpoint):
    from django.db import connection

    endpoint, secret = make_endpoint("https://hooks.example.com/in")
    assert secret.startswith("whsec_") and len(secret) > 30
    with connection.cursor() as cur:
        cur.execute("SELECT secret FROM webhooks_webhookendpoint WHERE id = %s", [endpoint.pk])
        raw = cur.fetchone()[0]
    assert raw and secret not in raw
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).secret == secret
    create = AuditEntry.objects.get(action="webhooks.endpoint_create")
    assert secret not in json.dumps(create.changes) and "secret" not in create.changes
