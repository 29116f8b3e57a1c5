"""Background tasks of the API app."""

from __future__ import annotations

from django_tasks import task

from credo.api.services import idempotency_keys_purge


@task()
def purge_idempotency_keys() -> int:
    """Daily: delete idempotency keys older than API_IDEMPOTENCY_TTL_HOURS."""
    return idempotency_keys_purge()
