"""Step 3: writing the checked rows in bulk, one audit entry per import."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.customers.errors import CustomerError
from credo.customers.importing.check import ImportPreview, RowError, ValidRow, preview
from credo.customers.importing.parse import CHUNK
from credo.customers.models import Customer, CustomerEvent


@dataclass
class ImportResult:
    created: int
    skipped: int
    errors: list[RowError]
    first_id: int | None = None
    last_id: int | None = None


# --- writing ----------------------------------------------------------------------------------
def run_import(
    rows: Iterable[Mapping[str, Any]],
    *,
    actor: Any,
    mode: str = "all_or_nothing",
    filename: str = "",
    checked: ImportPreview | None = None,
) -> ImportResult:
    """Validate (or reuse ``checked``) and write. ``all_or_nothing``: any error → nothing is
    written. ``valid_only``: the valid rows are written, the others are skipped."""
    if mode not in ("all_or_nothing", "valid_only"):
        raise ValueError(f"unknown import mode {mode!r}")
    result = checked if checked is not None else preview(rows, actor=actor)
    skipped = result.total - len(result.valid_rows)
    if (result.errors and mode == "all_or_nothing") or not result.valid_rows:
        return ImportResult(0, result.total, result.errors)
    source = _("批量导入")
    try:
        with transaction.atomic():
            created = _bulk_write(result.valid_rows, actor=actor, source=source)
            first_id, last_id = created[0].pk, created[-1].pk
            audit_record(
                action="customer.import",
                actor=actor,
                object_type="customers.customer",
                object_repr=(filename or "")[:200],
                metadata={
                    "count": len(created),
                    "skipped": skipped,
                    "mode": mode,
                    "file": filename,
                    "first_id": first_id,
                    "last_id": last_id,
                },
            )
    except IntegrityError:
        raise CustomerError(
            _("导入期间有其他用户新建了相同的客户，本次未导入任何数据，请重新导入。")
        ) from None
    return ImportResult(len(created), skipped, result.errors, first_id, last_id)


def _bulk_write(items: list[ValidRow], *, actor: Any, source: str) -> list[Customer]:
    units: dict[int, tuple[Any, Any]] = {}
    created: list[Customer] = []
    now = timezone.now()
    title = _("建立客户档案（%(source)s）") % {"source": source}
    event_actor = actor if getattr(actor, "is_authenticated", False) else None
    for start in range(0, len(items), CHUNK):
        batch: list[Customer] = []
        for item in items[start : start + CHUNK]:
            owner = item.owner
            if owner.pk not in units:
                units[owner.pk] = (owner.team, owner.branch)
            team, branch = units[owner.pk]
            batch.append(
                Customer(**item.values, owner=owner, team=team, branch=branch, custom=item.custom)
            )
        batch = Customer.objects.bulk_create(batch)
        if any(c.pk is None for c in batch):  # pragma: no cover - backends without RETURNING
            raise RuntimeError("bulk_create did not return primary keys")
        CustomerEvent.objects.bulk_create(
            [
                CustomerEvent(
                    customer=c,
                    kind=CustomerEvent.Kind.CREATED,
                    occurred_at=now,
                    actor=event_actor,
                    title=title[:200],
                    detail={"source": "import"},
                    source="customers",
                    object_type="customers.customer",
                    object_id=str(c.pk),
                )
                for c in batch
            ]
        )
        created.extend(batch)
    return created
