"""The stored files contract rows reference (a restore reports rows whose file is missing)."""

from __future__ import annotations

from collections.abc import Iterator

from credo.core.backup import FileRef, register_file_references


def contract_pdfs() -> Iterator[FileRef]:
    from credo.contracts.models import Contract

    rows = Contract.objects.exclude(pdf_path="").order_by("pk").values_list("pk", "pdf_path")
    for pk, rel in rows.iterator():
        yield ("documents", rel, f"contracts.contract pk={pk}")


register_file_references(contract_pdfs, key="contracts.pdfs")
