"""Background tasks of the audit log."""

from __future__ import annotations

from django_tasks import task


@task()
def seal() -> int:
    """Every minute: chain the committed unsealed rows (``audit_seal``). Skips at once when
    another sealer is running; stops after ~50 s so runs do not pile up; then hands the sealed
    events to their consumers (``credo.core.events``). Returns rows sealed."""
    from credo.core.audit.services import audit_seal
    from credo.core.events.stream import events_dispatch

    sealed = audit_seal(wait=False, max_seconds=50).sealed
    # the event stream is the sealed chain: hand the new rows to automations and webhooks now
    events_dispatch()
    return sealed


@task()
def checkpoint() -> int:
    """Hourly: seal, then anchor the chain tail (database + anchor file + optional syslog), so
    deleting the newest rows is detected by ``credo audit verify``. Returns the anchored seq
    (0: empty)."""
    from credo.core.audit.services import audit_checkpoint

    cp = audit_checkpoint(source="schedule")
    return cp.seq if cp is not None else 0
