"""Several senders at once (PostgreSQL): every delivery is posted exactly once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from credo.webhooks import services
from credo.webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db(transaction=True)


def test_parallel_senders_post_each_delivery_once(receiver, make_endpoint, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("row locks with SKIP LOCKED: PostgreSQL")
    monkeypatch.setattr(services, "enqueue_send", lambda pk: None)  # only the senders below
    endpoint, _secret = make_endpoint(receiver.url)
    for n in range(24):
        services.webhook_emit(
            endpoint_id=endpoint.pk, event_type="x.y", payload={"n": n}, idempotency_key=f"k{n}"
        )
    start = threading.Barrier(4)
    errors: list[BaseException] = []
    sent: list[int] = []

    def sender() -> None:
        try:
            start.wait()
            sent.append(services.send_due(limit=3).get("succeeded", 0))
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sender) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sum(sent) == 24  # the senders shared the work, none posted one twice
    ids = [r.headers["X-Credo-Delivery"] for r in receiver.requests]
    assert len(ids) == 24 and len(set(ids)) == 24
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {"succeeded"}
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {1}
