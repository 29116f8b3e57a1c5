"""Background tasks of the core app."""

from __future__ import annotations

from django_tasks import task


@task()
def purge_import_files() -> int:
    """Hourly: delete uploaded import files and import previews older than
    ``CREDO_IMPORT_FILE_TTL_HOURS`` (abandoned imports keep personal data otherwise)."""
    from credo.core.uploads import purge_expired

    return purge_expired()
