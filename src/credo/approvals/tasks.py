"""Background tasks of the approvals app."""

from __future__ import annotations

from django_tasks import task


@task()
def escalate_overdue() -> int:
    """Every 15 minutes: overdue approval tasks go to the step's escalation target."""
    from credo.approvals.services import approvals_escalate_overdue

    return approvals_escalate_overdue()
