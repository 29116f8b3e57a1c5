"""Bulk import of leads from Excel (.xlsx) or CSV: parse → preview (per-row errors) → write.

Rows are validated with :func:`credo.leads.cleaning.clean_lead` (the same rules as the form and
the API), written with ``bulk_create`` in one transaction (one audit entry per import), flagged
as duplicates the same way as single creates (earlier lead with the same phone/USCC in 90 days,
or an earlier row of the file), and then assigned with
:func:`credo.leads.services.leads_assign_bulk` — the same owners as one-by-one assignment.

Between preview and confirmation the parsed rows (names, phones) wait in the private import
store (:mod:`credo.core.uploads`), AES-GCM encrypted with the field-encryption keys and bound to
the uploading user; the session only holds a random token. The file is deleted on confirmation
and by the hourly purge after ``CREDO_IMPORT_FILE_TTL_HOURS``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import spreadsheet, tabular, uploads
from credo.core.audit.services import audit_record
from credo.core.crypto import DecryptionError, blind_index, decrypt, encrypt
from credo.leads.cleaning import clean_lead
from credo.leads.errors import LeadError
from credo.leads.models import Lead
from credo.leads.services import DUPLICATE_WINDOW, leads_assign_bulk

MAX_ROWS = 20_000
CHUNK = 500

COLUMN_LABELS: dict[str, str] = {
    "name": "名称",
    "contact_name": "联系人",
    "phone": "手机号",
    "uscc": "统一社会信用代码",
    "source": "来源渠道",
    "campaign": "活动",
    "region_code": "地区代码",
    "business_type": "业务类型",
    "requested_amount": "意向金额",
    "note": "备注",
}
_ALIASES = {
    **{label: key for key, label in COLUMN_LABELS.items()},
    **{key: key for key in COLUMN_LABELS},
    "企业名称": "name",
    "姓名": "name",
    "客户名称": "name",
    "电话": "phone",
    "手机号码": "phone",
    "联系电话": "phone",
    "信用代码": "uscc",
    "来源": "source",
    "渠道": "source",
    "推广计划": "campaign",
    "地区": "region_code",
    "行政区划代码": "region_code",
    "金额": "requested_amount",
    "意向金额元": "requested_amount",
}


class ImportFileError(LeadError):
    code = "import_file_error"


RowError = tabular.RowError


@dataclass
class ImportPreview:
    total: int
    valid: list[tuple[int, dict[str, Any]]]
    errors: list[RowError]
    duplicates: dict[int, int] = field(default_factory=dict)  # row → earlier lead id / -row

    @property
    def ok(self) -> bool:
        return not self.errors


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(Decimal(repr(value)))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def _require_name(columns: list[tabular.Column]) -> None:
    if not any(c.target == "name" for c in columns):
        raise ImportFileError(_("未找到表头“名称”列：第一行应为列名。"))


def parse_file(source: Any, filename: str = "") -> list[dict[str, Any]]:
    filename = filename or str(getattr(source, "name", "") or "")
    try:
        table = tabular.read_file(
            source,
            filename,
            tabular.HeaderMap(_ALIASES),
            cell=_cell,
            check_header=_require_name,
            max_rows=MAX_ROWS,
        )
    except tabular.TableError as exc:
        raise ImportFileError(exc.message()) from None
    return [{"_row": number, **values} for number, values in table.records]


def preview(rows: Iterable[Mapping[str, Any]], *, default_source: str = "") -> ImportPreview:
    """Validate every row; nothing is written."""
    rows = list(rows)
    valid: list[tuple[int, dict[str, Any]]] = []
    errors: list[RowError] = []
    for position, row in enumerate(rows, start=2):
        number = int(row.get("_row") or position)
        data = dict(row)
        if not data.get("source") and default_source:
            data["source"] = default_source
        values, field_errors = clean_lead(data)
        for key, message in field_errors.items():
            errors.append(RowError(number, COLUMN_LABELS.get(key, key), message))
        if not field_errors:
            valid.append((number, values))
    return ImportPreview(len(rows), valid, errors)


_TOKEN_RE = re.compile(r"^[0-9a-f]{32}$")


def _preview_name(token: str) -> str:
    return f"lead-preview-{token}.enc"


def _preview_aad(token: str, user_id: Any) -> str:
    # Binds the ciphertext to its token and user: another user's token (or a renamed file)
    # does not decrypt.
    return f"leads.import_preview:{token}:{user_id}"


def preview_save(rows: list[dict[str, Any]], *, source: str, filename: str, user_id: Any) -> str:
    """Keep parsed rows until the user confirms; returns the token to put in the session."""
    token = secrets.token_hex(16)
    payload = json.dumps(
        {"rows": rows, "source": source, "filename": filename}, ensure_ascii=False, default=str
    )
    data = encrypt(payload, aad=_preview_aad(token, user_id))
    uploads.write_private(_preview_name(token), [data.encode()])
    return token


def preview_load(token: str, *, user_id: Any) -> dict[str, Any] | None:
    """The stored preview (``rows``, ``source``, ``filename``), or None when gone, expired or
    not this user's."""
    if not _TOKEN_RE.match(token or ""):
        return None
    path = uploads.private_path(_preview_name(token))
    if path is None or not path.exists():
        return None
    if uploads.is_expired(path):
        path.unlink(missing_ok=True)
        return None
    try:
        data = json.loads(decrypt(path.read_text(), aad=_preview_aad(token, user_id)))
    except (DecryptionError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def preview_discard(token: str) -> None:
    if _TOKEN_RE.match(token or ""):
        uploads.discard(_preview_name(token))


def run_import(
    checked: ImportPreview, *, actor: Any, filename: str = "", assign: bool = True
) -> list[Lead]:
    """Write the valid rows of a preview (rows with errors are skipped) and assign them."""
    if not checked.valid:
        return []
    now = timezone.now()
    since = now - DUPLICATE_WINDOW
    phones = {blind_index(v["phone"], kind="phone") for _n, v in checked.valid if v.get("phone")}
    usccs = {v["uscc"] for _n, v in checked.valid if v.get("uscc")}
    earlier: dict[tuple[str, str], int] = {}
    for pk, bidx in (
        Lead.objects.filter(created_at__gte=since, is_duplicate=False)
        .filter(phone_bidx__in=phones)
        .values_list("id", "phone_bidx")
        .order_by("-id")
    ):
        earlier[("p", bidx)] = pk
    for pk, uscc in (
        Lead.objects.filter(created_at__gte=since, is_duplicate=False, uscc__in=usccs)
        .values_list("id", "uscc")
        .order_by("-id")
    ):
        earlier[("u", uscc)] = pk
    actor_or_none = actor if getattr(actor, "is_authenticated", False) else None
    with transaction.atomic():
        leads: list[Lead] = []
        first_in_file: dict[tuple[str, str], int] = {}  # key → index in ``leads``
        pending_dups: list[tuple[int, int]] = []
        for _number, values in checked.valid:
            lead = Lead(**values, created_by=actor_or_none)
            keys = []
            if values.get("phone"):
                keys.append(("p", blind_index(values["phone"], kind="phone")))
            if values.get("uscc"):
                keys.append(("u", values["uscc"]))
            original = next((earlier[k] for k in keys if k in earlier), None)
            if original is not None:
                lead.duplicate_of_id, lead.is_duplicate = original, True
            else:
                in_file = next((first_in_file[k] for k in keys if k in first_in_file), None)
                if in_file is not None:
                    lead.is_duplicate = True
                    pending_dups.append((len(leads), in_file))
                else:
                    for k in keys:
                        first_in_file[k] = len(leads)
            leads.append(lead)
        created = Lead.objects.bulk_create(leads, batch_size=CHUNK)
        if pending_dups:
            for idx, first in pending_dups:
                created[idx].duplicate_of_id = created[first].pk
            Lead.objects.bulk_update([created[i] for i, _f in pending_dups], ["duplicate_of"])
        audit_record(
            action="lead.import",
            actor=actor,
            object_type="leads.lead",
            object_repr=filename[:200],
            metadata={
                "count": len(created),
                "skipped": checked.total - len(checked.valid),
                "file": filename,
                "first_id": created[0].pk,
                "last_id": created[-1].pk,
            },
        )
        if assign:
            leads_assign_bulk(leads=created, actor=actor)
    return created


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "线索导入"
    spreadsheet.append(ws, list(COLUMN_LABELS.values()))
    spreadsheet.append(
        ws,
        [
            "太原晋阳商贸有限公司",
            "王建国",
            "13812345678",
            "",
            "线下活动",
            "2026春季展会",
            "140105",
            "经营贷",
            500000,
            "",
        ],
    )
    return spreadsheet.workbook_bytes(wb)
