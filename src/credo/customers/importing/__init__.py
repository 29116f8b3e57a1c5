"""Bulk import of customers from Excel (.xlsx) or CSV.

Three steps, so the UI can show a preview before anything is written:

1. :func:`parse_file` reads the file into row dicts (header labels in Chinese or the English
   field names; custom field labels become ``row["custom"]``).
2. :func:`preview` validates every row with the same rules as the form and the API
   (:func:`credo.customers.profile.clean_profile` + the form engine's ``validate_raw``),
   resolves the 客户经理 column and flags duplicates inside the file and against the database.
3. :func:`run_import` writes the rows: ``all_or_nothing`` writes nothing when any row has an
   error, ``valid_only`` writes the valid rows and skips the rest.

Why a bulk path instead of calling ``customer_create`` per row: ``customer_create`` writes one
audit entry (a row lock on the audit chain head + a hash) and one timeline event per customer,
i.e. ~6 queries per row; 10,000 rows took far longer than the 30 s target on SQLite. The bulk
path validates with exactly the same functions, then ``bulk_create``s customers in chunks of
500 (the ``BlindIndexField.pre_save`` hooks run inside ``bulk_create``, so blind indexes and
encryption are the same as for a single create), ``bulk_create``s one "created" timeline
event per customer and writes ONE audit entry ``customer.import`` per import (count, mode,
file name, first/last id). Everything runs in one transaction: a concurrent create of the
same identifier makes the whole import fail (database unique constraints) instead of
half-writing it.

Submodules by step: ``parse`` (file → rows), ``values`` (cell values → profile input),
``check`` (the preview), ``write`` (the bulk write) and ``template``. This package re-exports
the public names.
"""

from __future__ import annotations

from credo.customers.importing.check import (
    DuplicateRow,
    ImportPreview,
    RowError,
    ValidRow,
    can_assign_to,
    preview,
)
from credo.customers.importing.parse import (
    CHUNK,
    COLUMN_LABELS,
    MAX_ROWS,
    ImportFileError,
    Imprecise,
    ParsedRows,
    parse_file,
)
from credo.customers.importing.template import template_xlsx
from credo.customers.importing.write import ImportResult, run_import

__all__ = [
    "CHUNK",
    "COLUMN_LABELS",
    "MAX_ROWS",
    "DuplicateRow",
    "ImportFileError",
    "ImportPreview",
    "ImportResult",
    "Imprecise",
    "ParsedRows",
    "RowError",
    "ValidRow",
    "can_assign_to",
    "parse_file",
    "preview",
    "run_import",
    "template_xlsx",
]
