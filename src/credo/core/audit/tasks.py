"""Background tasks of the audit log."""

from __future__ import annotations

from django_tasks import task


@task()
def checkpoint() -> int:
    """Hourly: anchor the chain tail (database + anchor file + optional syslog), so deleting
    the newest rows is detected by ``credo audit verify``. Returns the anchored seq (0: empty)."""
    from credo.core.audit.services import audit_checkpoint

    cp = audit_checkpoint(source="schedule")
    return cp.seq if cp is not None else 0
