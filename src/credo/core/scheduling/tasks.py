"""Background tasks of the scheduling app."""

from __future__ import annotations

from django_tasks import task


@task()
def reap_stale_tasks() -> int:
    """Re-queue (or fail, after the cap) claimed tasks whose worker's lease expired. Every
    ``credo worker`` also does this in its loop; the schedule covers workers started otherwise."""
    from credo.core.scheduling.reaper import reap_stale_tasks as reap
    from credo.core.scheduling.reaper import worker_identity

    return len(reap(reaper=worker_identity()))
