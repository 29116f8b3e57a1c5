"""Backup and restore: ``credo backup --to DIR`` and ``credo restore --from DIR``.

A backup is a new directory holding

* the database — ``database.dump`` (PostgreSQL, ``pg_dump -Fc`` of one exported snapshot) or
  ``database.sqlite3`` (SQLite, the online backup API); both are consistent while the web
  server and the workers keep writing;
* the stored documents — ``documents/…`` (``CREDO_DOCUMENT_ROOT``: application documents,
  contract PDFs, report exports, scorecard training files) and ``media/…`` (``MEDIA_ROOT``:
  Django file fields such as the customers' authorisation scans; without ``imports/``, the
  short-lived import uploads), copied **after** the dump, so they may include files newer
  than the database (harmless: a file without a row is never served);
* ``manifest.json``, written last: Credo version, time, database vendor, the applied
  migrations per app, the row count of every table (counted in the dump's snapshot) and the
  SHA-256 and size of every file.

Never key material: the secret key, the encryption and blind-index keys, the audit anchor key
and file, any ``*_FILE`` secret and the demo credentials are left out wherever they are (the
keys are backed up separately — a dump without them cannot be decrypted, see
docs/deployment.md).

The backup is written to ``DIR.tmp`` and renamed to ``DIR`` when complete, so a ``DIR`` that
exists is a finished backup. A restore first verifies every checksum (nothing is written on a
mismatch), refuses a non-empty target database or document directory unless ``force``, loads
the database and the files, then compares row counts and migrations with the manifest (newer
code: runs ``migrate``), reports document rows whose file is missing, probes the encryption
keys and runs the registered integrity checks (audit chain; the lending ledger registers its
own). Apps contribute the paths their rows reference with :func:`register_file_references`
and checks with :func:`register_integrity_check` — core never imports them.

Modules: ``common`` (constants, :class:`BackupError`), ``registry`` (what apps register),
``files`` (document roots, walking, hashing), ``dbtools`` (pg_dump/pg_restore, row counts,
migrations), ``manifest`` (write, read, verify), ``dump`` (:func:`create_backup`), ``report``
(:class:`RestoreReport`), ``checks`` (after a restore), ``restore`` (:func:`restore_backup`).
This package re-exports the public API.
"""

from credo.core.backup.common import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    MEDIA_EXCLUDED_DIRS,
    PG_DUMP_FILE,
    ROOT_SETTINGS,
    SQLITE_FILE,
    BackupError,
    credo_version,
    vendor_label,
)
from credo.core.backup.dbtools import find_pg_tool, pg_env
from credo.core.backup.dump import BackupResult, create_backup
from credo.core.backup.files import document_roots, sha256_of
from credo.core.backup.manifest import read_manifest, verify_files
from credo.core.backup.registry import (
    FileRef,
    FileReferences,
    IntegrityCheck,
    IntegrityResult,
    iter_file_references,
    register_file_references,
    register_integrity_check,
)
from credo.core.backup.report import RestoreReport, Step, format_report_text
from credo.core.backup.restore import restore_backup

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "MEDIA_EXCLUDED_DIRS",
    "PG_DUMP_FILE",
    "ROOT_SETTINGS",
    "SQLITE_FILE",
    "BackupError",
    "BackupResult",
    "FileRef",
    "FileReferences",
    "IntegrityCheck",
    "IntegrityResult",
    "RestoreReport",
    "Step",
    "create_backup",
    "credo_version",
    "document_roots",
    "find_pg_tool",
    "format_report_text",
    "iter_file_references",
    "pg_env",
    "read_manifest",
    "register_file_references",
    "register_integrity_check",
    "restore_backup",
    "sha256_of",
    "vendor_label",
    "verify_files",
]
