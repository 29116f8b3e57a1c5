"""credo.core.parallel: units of database work on a few threads, or in the calling thread."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import translation

from credo.core import parallel
from credo.core.parallel import run_units


def test_default_workers_is_one_per_core_at_most_four(monkeypatch):
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 16)
    with override_settings(CREDO_EOD_WORKERS=0):
        assert parallel.default_workers("CREDO_EOD_WORKERS") == 4
    with override_settings(CREDO_EOD_WORKERS=3):
        assert parallel.default_workers("CREDO_EOD_WORKERS") == 3
    with override_settings(CREDO_EOD_WORKERS=50):
        assert parallel.default_workers("CREDO_EOD_WORKERS") == parallel.MAX_WORKERS
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: None)
    with override_settings(CREDO_EOD_WORKERS=0):
        assert parallel.default_workers("CREDO_EOD_WORKERS") == 1


@pytest.mark.django_db
def test_inside_a_transaction_everything_runs_in_the_calling_thread():
    """A thread's connection could not see the caller's uncommitted rows (a test's)."""
    me = threading.get_ident()
    seen: list[int] = []
    with transaction.atomic():
        outcomes = run_units(
            [1, 2, 3], lambda n: seen.append(threading.get_ident()) or n * 2, workers=4
        )
    assert seen == [me, me, me]
    assert [(o.item, o.result, o.error) for o in outcomes] == [
        (1, 2, None),
        (2, 4, None),
        (3, 6, None),
    ]


@pytest.mark.django_db
def test_sequential_stop_on_error_starts_nothing_after_a_failure():
    ran: list[int] = []

    def fn(n: int) -> int:
        ran.append(n)
        if n == 2:
            raise ValueError("坏")
        return n

    outcomes = run_units([1, 2, 3], fn, workers=1)
    assert ran == [1, 2]
    assert isinstance(outcomes[-1].error, ValueError)
    ran.clear()
    outcomes = run_units([1, 2, 3], fn, workers=1, stop_on_error=False)
    assert ran == [1, 2, 3] and [o.error is None for o in outcomes] == [True, False, True]


@pytest.mark.django_db(transaction=True)
def test_threads_share_the_work_use_the_callers_language_and_report_in_the_calling_thread():
    if connection.vendor != "postgresql":
        pytest.skip("threads are used on PostgreSQL only")
    me = threading.get_ident()
    workers_seen: set[int] = set()
    reported_in: list[int] = []

    def fn(n: int) -> tuple[int, str]:
        workers_seen.add(threading.get_ident())
        with connection.cursor() as cur:  # each thread its own connection
            cur.execute("SELECT %s::int * 10", [n])
            value = cur.fetchone()[0]
        time.sleep(0.2)
        return value, translation.get_language()

    started = time.perf_counter()
    with translation.override("en"):
        outcomes = run_units(
            list(range(4)),
            fn,
            workers=2,
            on_result=lambda o: reported_in.append(threading.get_ident()),
        )
    elapsed = time.perf_counter() - started
    assert sorted(o.result for o in outcomes) == [(0, "en"), (10, "en"), (20, "en"), (30, "en")]
    assert len(workers_seen) == 2 and me not in workers_seen
    assert reported_in == [me] * 4
    assert elapsed < 0.75  # four 0.2 s units on two threads, not one after the other


@pytest.mark.django_db(transaction=True)
def test_threads_stop_taking_work_after_a_failure():
    if connection.vendor != "postgresql":
        pytest.skip("threads are used on PostgreSQL only")
    ran: list[int] = []

    def fn(n: int) -> int:
        ran.append(n)
        if n == 0:
            raise RuntimeError("分片失败")
        time.sleep(0.1)
        return n

    outcomes = run_units(list(range(20)), fn, workers=2)
    errors = [o for o in outcomes if o.error is not None]
    assert len(errors) == 1 and str(errors[0].error) == "分片失败"
    assert len(ran) < 20  # the rest were never started
