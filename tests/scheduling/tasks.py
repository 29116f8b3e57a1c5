"""Tasks used by the scheduling tests."""

from __future__ import annotations

from django_tasks import task

CALLS: list[dict] = []


@task()
def record(**kwargs):
    CALLS.append(kwargs)
    return len(CALLS)


@task()
def explode(n: int = 0):
    raise RuntimeError(f"boom {n}")
