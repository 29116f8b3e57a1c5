"""Book migration (存量贷款迁移): ``credo book import``, the upload page and the API.

:mod:`.reading` reads and checks the workbook's cells, :mod:`.services` checks across rows and
against the database, writes (all-or-nothing), catches the loans up and reconciles,
:mod:`.views` is the upload → preview → confirm → reconciliation flow.
"""

from __future__ import annotations

from credo.lending.bookimport.reading import BookError, BookFileError, read_book, template_xlsx
from credo.lending.bookimport.services import (
    ImportOutcome,
    book_import,
    may_import,
    migration_version,
    reconcile,
    reconciliation_xlsx,
    require_import,
)

__all__ = [
    "BookError",
    "BookFileError",
    "ImportOutcome",
    "book_import",
    "may_import",
    "migration_version",
    "read_book",
    "reconcile",
    "reconciliation_xlsx",
    "require_import",
    "template_xlsx",
]
