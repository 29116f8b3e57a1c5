"""Background tasks of the privacy app."""

from __future__ import annotations

from typing import Any

from django_tasks import task


@task()
def retention_nightly() -> dict[str, Any]:
    """Every night: execute the deletion requests whose retention period has ended, then run
    the retention policies of every data class (nothing under legal hold is touched)."""
    from credo.privacy.services import retention_run

    run = retention_run(actor=None)
    return dict(run.report)
