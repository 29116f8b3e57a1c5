"""credo.core.sequence: one locked counter per (name, period), seeded from existing numbers."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection, connections, transaction

from credo.core.models import BusinessSequence
from credo.core.sequence import daily_number, next_value


@pytest.mark.django_db
def test_counts_per_name_and_period():
    assert next_value("t.count", "20261203") == 1
    assert next_value("t.count", "20261203") == 2
    assert next_value("t.count", "20261204") == 1
    assert next_value("t.other", "20261203") == 1
    assert next_value("t.count") == 1  # the default period is ""
    assert BusinessSequence.objects.get(name="t.count", period="20261203").last == 2


@pytest.mark.django_db
def test_seed_is_used_only_when_the_counter_is_created():
    calls = []

    def seed() -> int:
        calls.append(1)
        return 41

    assert next_value("t.seed", "p", seed=seed) == 42
    assert next_value("t.seed", "p", seed=seed) == 43
    assert len(calls) == 1


@pytest.mark.django_db
def test_daily_number_continues_an_existing_book():
    day = dt.date(2026, 12, 3)
    existing = {"L20261203": "L202612030017"}
    number = daily_number("t.loan", "L", day=day, existing_max=existing.get)
    assert number == "L202612030018"
    assert daily_number("t.loan", "L", day=day, existing_max=existing.get) == "L202612030019"
    # another day starts at 1; a width can be asked for
    assert daily_number("t.loan", "L", day=dt.date(2026, 12, 4), width=6) == "L20261204000001"


@pytest.mark.django_db
def test_daily_number_ignores_an_unparsable_existing_number():
    day = dt.date(2026, 12, 3)
    number = daily_number("t.app", "A", day=day, existing_max=lambda stem: f"{stem}-manual")
    assert number == "A202612030001"


@pytest.mark.django_db
def test_a_rolled_back_transaction_gives_its_number_back():
    assert next_value("t.rollback", "p") == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        assert next_value("t.rollback", "p") == 2
        raise RuntimeError("abort the creation")
    assert next_value("t.rollback", "p") == 2


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_creations_get_distinct_consecutive_numbers():
    if connection.vendor != "postgresql":
        pytest.skip("row locks: PostgreSQL only")
    n = 20
    start = threading.Barrier(n)
    results: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def worker() -> None:
        try:
            start.wait(timeout=30)
            with transaction.atomic():
                value = next_value("t.concurrent", "20261203", seed=lambda: 100)
            with lock:
                results.append(value)
        except BaseException as exc:  # noqa: BLE001 — reported by the main thread
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors, errors
    assert sorted(results) == list(range(101, 101 + n))
    assert BusinessSequence.objects.get(name="t.concurrent").last == 100 + n
