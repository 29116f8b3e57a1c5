"""The stored files origination rows reference (a restore reports rows whose file is missing)."""

from __future__ import annotations

from collections.abc import Iterator

from credo.core.backup import FileRef, register_file_references


def document_files() -> Iterator[FileRef]:
    from credo.origination.models import Document

    rows = Document.objects.order_by("pk").values_list("pk", "stored_name")
    for pk, stored in rows.iterator():
        yield ("documents", f"{stored[:2]}/{stored}", f"origination.document pk={pk}")


register_file_references(document_files, key="origination.documents")
