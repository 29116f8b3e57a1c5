"""Step 2: validating every row (nothing is written) — the same rules as the form and the API,
the 客户经理 column, duplicates inside the file and against the database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from credo.core import clock, tabular
from credo.core.crypto import blind_index
from credo.core.customfields import engine as cf
from credo.customers.importing.parse import CHUNK, COLUMN_LABELS, ENTITY, Imprecise
from credo.customers.importing.values import _profile_input
from credo.customers.models import Customer
from credo.customers.profile import clean_profile

RowError = tabular.RowError


@dataclass(frozen=True)
class DuplicateRow:
    row_number: int
    column_label: str
    existing_id: int | None = None  # a customer already in the database
    first_row: int | None = None  # an earlier row of the same file


@dataclass
class ValidRow:
    row_number: int
    values: dict[str, Any]
    custom: dict[str, Any]
    owner: Any


@dataclass
class ImportPreview:
    total: int
    valid_rows: list[ValidRow]
    errors: list[RowError]
    duplicates: list[DuplicateRow]
    unknown_columns: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def error_rows(self) -> list[int]:
        return sorted({e.row_number for e in self.errors})


# --- owners -----------------------------------------------------------------------------------
def can_assign_to(actor: Any, target: Any) -> bool:
    """Whether ``actor`` may make ``target`` the 客户经理 of a new customer: oneself always,
    others only inside the actor's data scope (team lead → own team, branch → own branch)."""
    from credo.accounts.models import DataScope

    if target is None or not target.is_active:
        return False
    if target.pk == actor.pk or actor.is_superuser:
        return True
    scope = actor.data_scope
    if scope == DataScope.ALL:
        return True
    if scope == DataScope.BRANCH and actor.branch is not None:
        return bool(target.branch == actor.branch)
    if scope == DataScope.TEAM and actor.team is not None:
        return bool(target.team == actor.team)
    return False


class _Owners:
    def __init__(self, actor: Any) -> None:
        self.actor = actor
        self.cache: dict[str, tuple[Any, str]] = {}

    def resolve(self, username: str) -> tuple[Any, str]:
        """(user, '') or (None, 中文错误)."""
        username = (username or "").strip()
        if not username:
            return self.actor, ""
        if username not in self.cache:
            user = (
                get_user_model()
                .objects.filter(username=username)
                .select_related("org_unit__parent")
                .first()
            )
            if user is None or not user.is_active:
                self.cache[username] = (None, _("用户“%(u)s”不存在或已停用。") % {"u": username})
            elif not can_assign_to(self.actor, user):
                self.cache[username] = (
                    None,
                    _("无权将客户分配给“%(u)s”（超出您的数据范围）。") % {"u": username},
                )
            else:
                self.cache[username] = (user, "")
        return self.cache[username]


# --- preview ----------------------------------------------------------------------------------
def _custom_label(key: str, labels: Mapping[str, str]) -> str:
    return labels.get(key, key)


def _existing(field_name: str, values: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        found.update(
            Customer.objects.filter(**{f"{field_name}__in": chunk}).values_list(field_name, "id")
        )
    return found


def preview(rows: Iterable[Mapping[str, Any]], *, actor: Any) -> ImportPreview:
    """Validate every row; nothing is written. Errors carry the Excel row number, the column
    label and a Chinese message; duplicates (in the file or already in the database) are
    errors too and are listed in ``duplicates``."""
    unknown = list(getattr(rows, "unknown_columns", []))
    rows = list(rows)
    errors: list[RowError] = []
    duplicates: list[DuplicateRow] = []
    candidates: list[ValidRow] = []
    owners = _Owners(actor)
    custom_defs = cf.active_fields(ENTITY)
    custom_labels = {f.key: f.label for f in custom_defs}
    has_custom_defs = bool(custom_defs)
    today = clock.today()
    for position, row in enumerate(rows, start=2):
        number = int(row.get("_row") or position)
        row_errors: list[RowError] = []
        values, field_errors = clean_profile(_profile_input(row), today=today)
        imprecise = [k for k, v in row.items() if isinstance(v, Imprecise)]
        imprecise += [
            custom_labels.get(k, k)
            for k, v in (row.get("custom") or {}).items()
            if isinstance(v, Imprecise)
        ]
        for key in imprecise:
            field_errors[key] = _(
                "该数字超过 15 位，Excel 已丢失精度：请把此列设置为“文本”格式后重新填写。"
            )
        for key, message in field_errors.items():
            row_errors.append(RowError(number, COLUMN_LABELS.get(key, key), message))
        custom_stored: dict[str, Any] = {}
        raw_custom = dict(row.get("custom") or {})
        if has_custom_defs:
            # Called for every row so required custom fields are enforced as in the form.
            custom_stored, custom_errors = cf.validate_raw(ENTITY, raw_custom, user=actor)
            for key, message in custom_errors.items():
                row_errors.append(RowError(number, _custom_label(key, custom_labels), message))
        elif raw_custom:
            for key in raw_custom:
                row_errors.append(RowError(number, key, _("未知的自定义字段。")))
        owner, owner_error = owners.resolve(str(row.get("owner") or ""))
        if owner_error:
            row_errors.append(RowError(number, COLUMN_LABELS["owner"], owner_error))
        if row_errors:
            errors.extend(row_errors)
            continue
        candidates.append(ValidRow(number, values, custom_stored, owner))

    # Duplicates inside the file (first occurrence wins) and against the database.
    seen: dict[tuple[str, str], int] = {}
    in_file_ok: list[tuple[ValidRow, str, str]] = []
    for item in candidates:
        if item.values["kind"] == Customer.Kind.ENTERPRISE:
            field_name, ident = "uscc", item.values.get("uscc", "")
        else:
            field_name = "id_number_bidx"
            ident = blind_index(item.values.get("id_number", ""), kind="id_number")
        label = COLUMN_LABELS["uscc" if field_name == "uscc" else "id_number"]
        first = seen.get((field_name, ident))
        if first is not None:
            duplicates.append(DuplicateRow(item.row_number, label, first_row=first))
            errors.append(
                RowError(
                    item.row_number,
                    label,
                    _("与第 %(row)s 行重复（同一%(label)s）。") % {"row": first, "label": label},
                )
            )
            continue
        seen[(field_name, ident)] = item.row_number
        in_file_ok.append((item, field_name, ident))
    existing_uscc = _existing("uscc", [i for _r, f, i in in_file_ok if f == "uscc"])
    existing_id = _existing("id_number_bidx", [i for _r, f, i in in_file_ok if f != "uscc"])
    valid: list[ValidRow] = []
    for item, field_name, ident in in_file_ok:
        found = (existing_uscc if field_name == "uscc" else existing_id).get(ident)
        if found is not None:
            label = COLUMN_LABELS["uscc" if field_name == "uscc" else "id_number"]
            duplicates.append(DuplicateRow(item.row_number, label, existing_id=found))
            errors.append(
                RowError(
                    item.row_number,
                    label,
                    _("该%(label)s已存在客户档案（编号 %(pk)s），请勿重复建档。")
                    % {"label": label, "pk": found},
                )
            )
            continue
        valid.append(item)
    errors.sort(key=lambda e: (e.row_number, e.column_label))
    return ImportPreview(len(rows), valid, errors, duplicates, unknown)
