"""Database work spread over a few threads of this process, each with its own connection.

Used where one command does independent units of work that each commit on their own (the
chunks of a close of business, its after-close jobs): on PostgreSQL the units run on
``workers`` threads — most of a unit's time is spent waiting on the database, so a second
thread keeps the second core busy, as a second ``credo worker`` process would. Everything runs
in the calling thread instead when there is one worker, on SQLite (one writer at a time), or
inside a transaction (a thread's connection could not see the caller's uncommitted rows — a
test's, for instance).

Each thread uses the caller's active language (timeline titles, messages) and closes its
database connection when it ends. Results come back to the calling thread (``on_result``
runs there, e.g. a progress line), in completion order.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from django.conf import settings
from django.db import connection, connections
from django.utils import translation

T = TypeVar("T")
R = TypeVar("R")

MAX_WORKERS = 8


def default_workers(setting: str) -> int:
    """The thread count of ``setting`` (0 or unset: one per CPU core, at most 4)."""
    configured = int(getattr(settings, setting, 0) or 0)
    if configured > 0:
        return min(configured, MAX_WORKERS)
    return max(1, min(os.cpu_count() or 1, 4))


def can_run_in_threads() -> bool:
    """Whether work may leave the calling thread: PostgreSQL, outside a transaction."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


class Outcome(Generic[T, R]):
    """One unit's result or the exception it raised."""

    __slots__ = ("error", "item", "result")

    def __init__(self, item: T, result: R | None, error: BaseException | None) -> None:
        self.item, self.result, self.error = item, result, error


def run_units(
    items: Sequence[T],
    fn: Callable[[T], R],
    *,
    workers: int,
    on_result: Callable[[Outcome[T, R]], None] | None = None,
    stop_on_error: bool = True,
) -> list[Outcome[T, R]]:
    """Run ``fn`` on each item, ``workers`` at a time (in the calling thread when threads
    cannot be used, see the module). With ``stop_on_error`` no further item is started once one
    raised (those already running finish). Returns the outcomes of the items that ran, in
    completion order."""
    outcomes: list[Outcome[T, R]] = []

    def record(outcome: Outcome[T, R]) -> None:
        outcomes.append(outcome)
        if on_result is not None:
            on_result(outcome)

    workers = min(workers, len(items))
    if workers <= 1 or not can_run_in_threads():
        _run_here(items, fn, record, stop_on_error)
    else:
        _run_threads(items, fn, record, stop_on_error, workers)
    return outcomes


def _attempt(fn: Callable[[T], R], item: T) -> Outcome[T, R]:
    try:
        return Outcome(item, fn(item), None)
    except Exception as exc:  # noqa: BLE001 — handed to the caller
        return Outcome(item, None, exc)


def _run_here(
    items: Sequence[T],
    fn: Callable[[T], R],
    record: Callable[[Outcome[T, R]], None],
    stop_on_error: bool,
) -> None:
    for item in items:
        outcome = _attempt(fn, item)
        record(outcome)
        if outcome.error is not None and stop_on_error:
            return


def _run_threads(
    items: Sequence[T],
    fn: Callable[[T], R],
    record: Callable[[Outcome[T, R]], None],
    stop_on_error: bool,
    workers: int,
) -> None:
    todo: queue.SimpleQueue[T] = queue.SimpleQueue()
    for item in items:
        todo.put(item)
    done: queue.SimpleQueue[Outcome[T, R] | None] = queue.SimpleQueue()
    stop = threading.Event()
    language = translation.get_language()

    def work() -> None:
        try:
            with translation.override(language):
                while not stop.is_set():
                    try:
                        item = todo.get_nowait()
                    except queue.Empty:
                        return
                    outcome = _attempt(fn, item)
                    if outcome.error is not None and stop_on_error:
                        stop.set()
                    done.put(outcome)
        finally:
            connections.close_all()  # this thread's connections
            done.put(None)  # this thread has ended

    threads = [
        threading.Thread(target=work, name=f"credo-unit-{n}", daemon=True) for n in range(workers)
    ]
    for thread in threads:
        thread.start()
    running = len(threads)
    while running:
        outcome = done.get()
        if outcome is None:
            running -= 1
        else:
            record(outcome)  # in the calling thread
    for thread in threads:
        thread.join()
