"""Scheduled work of the contracts app."""

from __future__ import annotations

from django_tasks import task


@task()
def expire_contracts() -> int:
    """Daily: contracts sent for signing and not signed within the deadline become expired."""
    from credo.contracts.services import contracts_expire

    return contracts_expire()
