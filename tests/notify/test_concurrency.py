"""Two senders at once never deliver the same message twice (PostgreSQL, real transactions)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from credo.notify import gateways
from credo.notify.gateways import Delivery
from credo.notify.models import Message
from credo.notify.services import notify, send_due
from tests.notify.conftest import at

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_parallel_send_due_delivers_each_message_once(monkeypatch, owner):
    for i in range(30):
        notify(
            template="notify.test",
            context={"name": str(i)},
            channel="wecom",
            send_after=at(10, 1),
            now=at(10),
        )
    delivered: list[int] = []
    lock = threading.Lock()

    def fake(channel, message):
        with lock:
            delivered.append(message.pk)
        return Delivery(provider_message_id="x")

    monkeypatch.setattr(gateways, "deliver", fake)
    errors: list[BaseException] = []

    def worker():
        try:
            send_due(now=at(10, 1), limit=7)
            send_due(now=at(10, 1), limit=7)
            send_due(now=at(10, 1), limit=30)
        except BaseException as exc:  # pragma: no cover - surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(delivered) == sorted(set(delivered)) and len(delivered) == 30
    assert Message.objects.filter(status="sent").count() == 30
