"""Writes and reads of the holiday calendar: one day (add/edit/delete), the Excel import
(parse → preview with per-row errors → all-or-nothing apply, idempotent), the export and the
shipped defaults. Every change is audited and bumps the calendar's version token in the same
transaction, so every process's cached :func:`~credo.core.holidays.load_calendar` sees it."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from credo.core import tabular
from credo.core.audit.services import audit_record
from credo.core.holidays.calendar import WorkingCalendar, forget_calendar
from credo.core.holidays.data import default_days
from credo.core.models import BusinessSequence, Holiday

PERM = "core.manage_holidays"
VIEW_PERM = "core.view_holiday"
TOKEN_NAME = "holiday_calendar"
MAX_IMPORT_ROWS = 2000
MIN_YEAR, MAX_YEAR = 2000, 2100

KIND_LABELS = {
    Holiday.Kind.HOLIDAY: "放假",
    Holiday.Kind.WORKDAY: "调休上班",
}
#: Accepted spellings of the 类型 column (compared without spaces, case-insensitive).
KIND_ALIASES = {
    "放假": Holiday.Kind.HOLIDAY,
    "休息": Holiday.Kind.HOLIDAY,
    "节假日": Holiday.Kind.HOLIDAY,
    "假日": Holiday.Kind.HOLIDAY,
    "holiday": Holiday.Kind.HOLIDAY,
    "off": Holiday.Kind.HOLIDAY,
    "调休上班": Holiday.Kind.WORKDAY,
    "上班": Holiday.Kind.WORKDAY,
    "补班": Holiday.Kind.WORKDAY,
    "工作日": Holiday.Kind.WORKDAY,
    "workday": Holiday.Kind.WORKDAY,
    "working day": Holiday.Kind.WORKDAY,
    "work": Holiday.Kind.WORKDAY,
}
HEADER = tabular.HeaderMap(
    {
        "日期": "date",
        "date": "date",
        "类型": "kind",
        "kind": "kind",
        "type": "kind",
        "名称": "name",
        "节日": "name",
        "name": "name",
        "备注": "name",
    }
)
COLUMN_LABELS = {"date": "日期", "kind": "类型", "name": "名称"}


class HolidayError(Exception):
    """A refused calendar change; ``message`` is shown to the user (Chinese)."""

    code = "holiday_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class HolidayPermissionDenied(HolidayError):
    code = "permission_denied"


def _require(actor: Any) -> None:
    # actor None: the system (data migration, `credo holidays load-default`)
    if actor is not None and not actor.has_perm(PERM):
        raise HolidayPermissionDenied(_("没有管理节假日的权限。"))


# --- the version token and the calendar ------------------------------------------------------
def calendar_token() -> int:
    """The holiday data's version: replaced in the transaction of every change."""
    value = (
        BusinessSequence.objects.filter(name=TOKEN_NAME, period="")
        .values_list("last", flat=True)
        .first()
    )
    return int(value or 0)


def _changed() -> None:
    # A random token, not a counter: a rolled-back change whose calendar some process cached
    # must never share its token with a later committed change.
    token = secrets.randbits(62) or 1
    rows = BusinessSequence.objects.filter(name=TOKEN_NAME, period="")
    if not rows.update(last=token):
        try:
            with transaction.atomic():
                BusinessSequence.objects.create(name=TOKEN_NAME, period="", last=token)
        except IntegrityError:  # created concurrently: its row lock orders us
            rows.update(last=token)
    forget_calendar()
    transaction.on_commit(forget_calendar)


def build_calendar() -> WorkingCalendar:
    holidays: list[dt.date] = []
    workdays: list[dt.date] = []
    for day, kind in Holiday.objects.values_list("date", "kind"):
        (workdays if kind == Holiday.Kind.WORKDAY else holidays).append(day)
    return WorkingCalendar.of(holidays, workdays)


# --- reads -----------------------------------------------------------------------------------
def year_days(year: int) -> list[Holiday]:
    return list(Holiday.objects.filter(year=year).order_by("date"))


def years_with_data() -> list[int]:
    return sorted(set(Holiday.objects.values_list("year", flat=True)))


def missing_next_year(today: dt.date) -> int | None:
    """From December on, the next year when it has no data yet (the notice must be imported)."""
    if today.month != 12:
        return None
    nxt = today.year + 1
    return None if Holiday.objects.filter(year=nxt).exists() else nxt


# --- one day ---------------------------------------------------------------------------------
def _clean(date: dt.date, kind: str, name: str) -> tuple[dt.date, str, str]:
    if kind not in Holiday.Kind.values:
        raise HolidayError(_("类型只能是“放假”或“调休上班”。"))
    if not MIN_YEAR <= date.year <= MAX_YEAR:
        raise HolidayError(_("日期须在 %(a)s–%(b)s 年之间。") % {"a": MIN_YEAR, "b": MAX_YEAR})
    name = (name or "").strip()
    if len(name) > 40:
        raise HolidayError(_("名称最多 40 个字。"))
    return date, kind, name


def _snap(h: Holiday) -> dict[str, Any]:
    return {"date": h.date.isoformat(), "kind": h.kind, "name": h.name}


@transaction.atomic
def holiday_save(
    *,
    actor: Any,
    date: dt.date,
    kind: str,
    name: str = "",
    holiday: Holiday | None = None,
    source: str = "",
) -> Holiday:
    """Add a day (``holiday`` None) or edit one; a date can be listed once."""
    _require(actor)
    date, kind, name = _clean(date, kind, name)
    clash = Holiday.objects.filter(date=date)
    if holiday is not None:
        clash = clash.exclude(pk=holiday.pk)
    if clash.exists():
        raise HolidayError(_("%(d)s 已在日历中，请编辑该日期。") % {"d": date.isoformat()})
    user = actor if getattr(actor, "is_authenticated", False) else None
    if holiday is None:
        row = Holiday.objects.create(
            date=date,
            kind=kind,
            name=name,
            year=date.year,
            source=source or _("手工录入"),
            updated_by=user,
        )
        audit_record(
            action="holiday.create", actor=actor, obj=row, changes={"day": [None, _snap(row)]}
        )
    else:
        row = Holiday.objects.select_for_update().get(pk=holiday.pk)
        before = _snap(row)
        row.date, row.kind, row.name, row.year = date, kind, name, date.year
        row.source = source or _("手工录入")
        row.updated_by = user
        row.save()
        audit_record(
            action="holiday.update", actor=actor, obj=row, changes={"day": [before, _snap(row)]}
        )
    _changed()
    return row


@transaction.atomic
def holiday_delete(*, actor: Any, holiday: Holiday) -> None:
    _require(actor)
    row = Holiday.objects.select_for_update().filter(pk=holiday.pk).first()
    if row is None:
        return
    before = _snap(row)
    audit_record(action="holiday.delete", actor=actor, obj=row, changes={"day": [before, None]})
    row.delete()
    _changed()


# --- import ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class ParsedDay:
    row_number: int
    date: dt.date
    kind: str
    name: str


@dataclass
class ImportPreview:
    """What a file would change: valid rows, per-row errors (nothing is written while there is
    any), and how many rows are new, changed or already in the calendar."""

    rows: list[ParsedDay] = field(default_factory=list)
    errors: list[tabular.RowError] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    new: int = 0
    changed: int = 0
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.errors

    @property
    def years(self) -> list[int]:
        return sorted({r.date.year for r in self.rows})


def _parse_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value or "").strip()
    if not text:
        return None
    text = text.replace("/", "-").replace(".", "-")
    for sep in ("年", "月"):
        text = text.replace(sep, "-")
    text = text.replace("日", "").split(" ")[0].split("T")[0]
    try:
        y, m, d = (int(p) for p in text.split("-"))
        return dt.date(y, m, d)
    except ValueError:
        return None


def _parse_kind(value: Any) -> str | None:
    key = " ".join(str(value or "").split()).lower()
    return KIND_ALIASES.get(key) or KIND_ALIASES.get(key.replace(" ", ""))


def _check_header(columns: list[tabular.Column]) -> None:
    targets = {c.target for c in columns}
    missing = [COLUMN_LABELS[t] for t in ("date", "kind") if t not in targets]
    if missing:
        raise HolidayError(
            _("缺少必需的列：%(cols)s（列标题应为 日期、类型、名称）。")
            % {"cols": "、".join(missing)}
        )


def parse_rows(records: Iterable[tuple[int, dict[str, Any]]]) -> ImportPreview:
    """Validate ``(row number, {"date", "kind", "name"})`` records (pure: no database)."""
    out = ImportPreview()
    seen: dict[dt.date, int] = {}
    for number, rec in records:
        errors: list[tabular.RowError] = []
        raw_date = rec.get("date")
        date = _parse_date(raw_date)
        if raw_date in (None, ""):
            errors.append(tabular.RowError(number, "日期", _("日期不能为空。")))
        elif date is None:
            errors.append(
                tabular.RowError(
                    number, "日期", _("日期“%(v)s”无法识别，请写成 2026-10-01。") % {"v": raw_date}
                )
            )
        elif not MIN_YEAR <= date.year <= MAX_YEAR:
            errors.append(
                tabular.RowError(
                    number,
                    "日期",
                    _("日期须在 %(a)s–%(b)s 年之间。") % {"a": MIN_YEAR, "b": MAX_YEAR},
                )
            )
        elif date in seen:
            errors.append(
                tabular.RowError(
                    number,
                    "日期",
                    _("日期 %(d)s 与第 %(n)s 行重复。") % {"d": date.isoformat(), "n": seen[date]},
                )
            )
        kind = _parse_kind(rec.get("kind"))
        if kind is None:
            raw_kind = str(rec.get("kind") or "").strip()
            msg = (
                _("类型不能为空，请填写“放假”或“调休上班”。")
                if not raw_kind
                else _("类型“%(v)s”无法识别，请填写“放假”或“调休上班”。") % {"v": raw_kind}
            )
            errors.append(tabular.RowError(number, "类型", msg))
        name = str(rec.get("name") or "").strip()
        if len(name) > 40:
            errors.append(tabular.RowError(number, "名称", _("名称最多 40 个字。")))
        if date is not None and kind == Holiday.Kind.WORKDAY and date.weekday() < 5 and not errors:
            errors.append(
                tabular.RowError(
                    number,
                    "类型",
                    _("%(d)s 是工作日（周一至周五），无需标为调休上班。") % {"d": date.isoformat()},
                )
            )
        if date is not None and date not in seen:
            seen[date] = number
        if errors:
            out.errors.extend(errors)
        elif date is not None and kind is not None:
            out.rows.append(ParsedDay(number, date, kind, name))
    return out


def parse_file(source: Any, filename: str) -> ImportPreview:
    """Read an uploaded .xlsx/.csv (columns 日期, 类型, 名称; Chinese or English headers) and
    validate every row; compares the valid rows with the calendar (new / changed / unchanged)."""
    try:
        table = tabular.read_file(
            source,
            filename,
            HEADER,
            check_header=_check_header,
            max_rows=MAX_IMPORT_ROWS,
        )
    except tabular.TableError as exc:
        raise HolidayError(exc.message()) from None
    preview = parse_rows(table.records)
    preview.unknown_columns = table.unknown
    if not table.records:
        raise HolidayError(_("文件中没有数据行。"))
    _compare(preview)
    return preview


def _compare(preview: ImportPreview) -> None:
    current = {
        h.date: (h.kind, h.name)
        for h in Holiday.objects.filter(date__in=[r.date for r in preview.rows])
    }
    preview.new = preview.changed = preview.unchanged = 0
    for r in preview.rows:
        have = current.get(r.date)
        if have is None:
            preview.new += 1
        elif have == (r.kind, r.name):
            preview.unchanged += 1
        else:
            preview.changed += 1


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int


def _upsert(days: Sequence[tuple[dt.date, str, str]], *, actor: Any, source: str) -> ImportResult:
    user = actor if getattr(actor, "is_authenticated", False) else None
    current = {
        h.date: h
        for h in Holiday.objects.select_for_update()
        .filter(date__in=[d for d, _k, _n in days])
        .order_by("pk")
    }
    created = updated = unchanged = 0
    new_rows: list[Holiday] = []
    for date, kind, name in days:
        row = current.get(date)
        if row is None:
            new_rows.append(
                Holiday(
                    date=date, kind=kind, name=name, year=date.year, source=source, updated_by=user
                )
            )
            created += 1
        elif (row.kind, row.name) == (kind, name):
            unchanged += 1
        else:
            row.kind, row.name, row.source, row.updated_by = kind, name, source, user
            row.save(update_fields=["kind", "name", "source", "updated_by", "updated_at"])
            updated += 1
    Holiday.objects.bulk_create(new_rows)
    if created or updated:
        _changed()
    return ImportResult(created, updated, unchanged)


@transaction.atomic
def holiday_import(*, actor: Any, preview: ImportPreview, filename: str) -> ImportResult:
    """Apply a validated file, all or nothing: a file with any row error changes nothing.
    Re-importing the same file changes nothing (days already in the calendar are unchanged)."""
    _require(actor)
    if preview.errors:
        raise HolidayError(
            _("文件中有 %(n)s 处错误，未导入任何日期；请修正后重新上传。")
            % {"n": len(preview.errors)}
        )
    if not preview.rows:
        raise HolidayError(_("文件中没有数据行。"))
    # re-validate what is written (the preview may come from a round trip through the browser)
    checked = [_clean(r.date, r.kind, r.name) for r in preview.rows]
    if len({d for d, _k, _n in checked}) != len(checked):
        raise HolidayError(_("文件中有重复的日期。"))
    result = _upsert(checked, actor=actor, source=_("Excel 导入：%(f)s") % {"f": filename[:80]})
    audit_record(
        action="holiday.import",
        actor=actor,
        object_type="core.holiday",
        object_repr=filename[:200],
        metadata={
            "file": filename[:200],
            "years": sorted({d.year for d, _k, _n in checked}),
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        },
    )
    return result


@transaction.atomic
def holidays_load_default(*, actor: Any = None, year: int | None = None) -> ImportResult:
    """(Re)load the shipped notice(s): missing days are added, days that differ are reset to
    the notice; other days of the year are left alone."""
    _require(actor)
    days = [(d.date, d.kind, d.name) for d in default_days(year)]
    if not days:
        raise HolidayError(_("没有内置 %(y)s 年的节假日数据。") % {"y": year})
    sources = {d.date: d.source for d in default_days(year)}
    result = ImportResult(0, 0, 0)
    for src in sorted(set(sources.values())):
        part = [x for x in days if sources[x[0]] == src]
        r = _upsert(part, actor=actor, source=src)
        result = ImportResult(
            result.created + r.created, result.updated + r.updated, result.unchanged + r.unchanged
        )
    audit_record(
        action="holiday.load_default",
        actor=actor,
        object_type="core.holiday",
        object_repr=str(year or "all"),
        metadata={
            "year": year,
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
        },
    )
    return result


# --- export ----------------------------------------------------------------------------------
def export_xlsx(year: int | None = None) -> bytes:
    """The calendar (one year or all) as .xlsx with the import's columns (re-importable)."""
    from openpyxl import Workbook

    from credo.core import spreadsheet

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("节假日"))
    spreadsheet.append(ws, ["日期", "类型", "名称", "星期", "来源"])
    qs = Holiday.objects.order_by("date")
    if year is not None:
        qs = qs.filter(year=year)
    weekdays = "一二三四五六日"
    for h in qs:
        spreadsheet.append(
            ws,
            [
                h.date,
                KIND_LABELS[Holiday.Kind(h.kind)],
                h.name,
                "周" + weekdays[h.date.weekday()],
                h.source,
            ],
            number_formats=["yyyy-mm-dd"],
        )
    return spreadsheet.workbook_bytes(wb)
