"""Field definitions of a custom record type and the values filled into them.

A definition is a list of plain dicts stored in :attr:`RecordTypeVersion.fields`::

    {"key": "visit_date", "label": "走访日期", "type": "date",
     "required": True, "required_when": "",        # ZEN condition: required only when true
     "options": [{"value": "ok", "label": "正常"}],  # choice / multi_choice
     "columns": [<scalar definition>, ...],        # subtable: one definition per column
     "expression": "amount * 0.1", "result_type": "money",   # computed
     "view_roles": ["risk_manager"], "edit_roles": [],       # role codes; empty = everybody
     "help_text": "", "min": "0", "max": "", "regex": "", "show_in_list": True}

Scalar types are the custom-field types of :mod:`credo.core.customfields` (text, number, money,
date, choice, multi_choice, boolean) and are validated by that engine, through a
:class:`CustomField` built in memory. Record types add ``textarea``, ``subtable`` (rows of
scalar columns), ``computed`` (a ZEN expression over the other fields, evaluated by the rules
engine), ``attachment`` and ``photo`` (files stored with the document rules).

Stored values: like custom fields (money = integer fen, number = decimal string, date = ISO
date …); a subtable is a list of row dicts; a file field is a list of :class:`RecordFile` ids.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.core.customfields import engine as cf
from credo.core.customfields.models import CustomField, FieldType
from credo.core.money import FEN, Money

SCALAR_TYPES = ("text", "textarea", "number", "money", "date", "choice", "multi_choice", "boolean")
FILE_TYPES = ("attachment", "photo")
TYPES = (*SCALAR_TYPES, "subtable", "computed", *FILE_TYPES)
TYPE_LABELS: dict[str, Any] = {
    "text": gettext_lazy("文本"),
    "textarea": gettext_lazy("多行文本"),
    "number": gettext_lazy("数字"),
    "money": gettext_lazy("金额"),
    "date": gettext_lazy("日期"),
    "choice": gettext_lazy("单选"),
    "multi_choice": gettext_lazy("多选"),
    "boolean": gettext_lazy("是/否"),
    "subtable": gettext_lazy("子表（多行）"),
    "computed": gettext_lazy("计算字段（公式）"),
    "attachment": gettext_lazy("附件"),
    "photo": gettext_lazy("照片"),
}
RESULT_TYPES = ("number", "money", "text", "boolean")
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_FIELDS = 80
MAX_ROWS = 200
MAX_FILES = 9
TEXTAREA_MAX = 4000


class DefinitionError(ValueError):
    """A field definition that cannot be saved; ``errors`` maps ``<row>`` or ``<row>.<attr>``
    to 中文 messages."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("；".join(self.errors.values()))


# --- the ZEN bridge ---------------------------------------------------------------------------
def _graph(expression: str) -> dict[str, Any]:
    """A one-row decision table whose output cell is ``expression``: the rules engine checks the
    expression's syntax when it compiles the table (a bare expression node would not)."""
    pos = {"x": 0, "y": 0}
    return {
        "nodes": [
            {"id": "in", "type": "inputNode", "name": "input", "position": pos},
            {
                "id": "f",
                "type": "decisionTableNode",
                "name": "公式",
                "position": pos,
                "content": {
                    "hitPolicy": "first",
                    "inputs": [],
                    "outputs": [{"id": "o", "field": "value", "name": "value"}],
                    "rules": [{"_id": "r", "o": expression}],
                },
            },
            {"id": "out", "type": "outputNode", "name": "output", "position": pos},
        ],
        "edges": [
            {"id": "e1", "sourceId": "in", "targetId": "f", "type": "edge"},
            {"id": "e2", "sourceId": "f", "targetId": "out", "type": "edge"},
        ],
    }


def check_expression(expression: str) -> str | None:
    """The engine's message for an expression that does not parse, else None."""
    from credo.rules import engine

    try:
        engine.compile_content(_graph(expression), cache_key=("records", expression))
    except ValueError as exc:
        return str(exc).split(": ", 2)[-1]
    return None


def evaluate(expression: str, context: Mapping[str, Any]) -> Any:
    """The value of ``expression`` over ``context``; None when it cannot be computed (an input
    is empty or of the wrong type — the form is being filled)."""
    from credo.rules import engine

    try:
        compiled = engine.compile_content(_graph(expression), cache_key=("records", expression))
        result, _trace = engine.run(compiled, dict(context), trace=False)
    except ValueError:
        return None
    return result.get("value")


# --- definitions ------------------------------------------------------------------------------
def _options(raw: Any) -> list[dict[str, str]]:
    out = []
    for o in raw or []:
        if isinstance(o, Mapping):
            value = str(o.get("value", "")).strip()
            label = str(o.get("label") or value).strip()
        else:
            value = label = str(o).strip()
        out.append({"value": value, "label": label})
    return out


def _codes(raw: Any) -> list[str]:
    if isinstance(raw, str):
        raw = re.split(r"[\s,，、]+", raw)
    return sorted({str(c).strip() for c in raw or [] if str(c).strip()})


def _dec(raw: Any) -> str:
    if raw in (None, ""):
        return ""
    try:
        return format(Decimal(str(raw).strip()), "f")
    except InvalidOperation:
        raise ValueError(str(raw)) from None


def normalize(
    fields: Iterable[Mapping[str, Any]], *, known_roles: Iterable[str] | None = None
) -> list[dict[str, Any]]:
    """Check and normalize a whole definition; raises :class:`DefinitionError`."""
    errors: dict[str, str] = {}
    roles = set(known_roles) if known_roles is not None else None
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    items = list(fields)
    if not items:
        raise DefinitionError({"fields": _("表单至少需要一个字段。")})
    if len(items) > MAX_FIELDS:
        raise DefinitionError({"fields": _("字段不能超过 %(n)s 个。") % {"n": MAX_FIELDS}})
    for index, raw in enumerate(items, 1):
        d = _normalize_one(raw, f"{index}", errors, roles, sub=False)
        if d is None:
            continue
        if d["key"] in seen:
            errors[f"{index}.key"] = _("字段标识“%(k)s”重复。") % {"k": d["key"]}
        seen.add(d["key"])
        out.append(d)
    if errors:
        raise DefinitionError(errors)
    return out


def _normalize_one(
    raw: Mapping[str, Any],
    where: str,
    errors: dict[str, str],
    roles: set[str] | None,
    *,
    sub: bool,
) -> dict[str, Any] | None:
    key = str(raw.get("key", "")).strip()
    label = str(raw.get("label", "")).strip()
    ftype = str(raw.get("type", "")).strip()
    if not KEY_RE.match(key):
        errors[f"{where}.key"] = _(
            "字段标识“%(k)s”无效：须以小写字母开头，只含小写字母、数字、下划线，最长 40 位。"
        ) % {"k": key}
    if not label:
        errors[f"{where}.label"] = _("第 %(n)s 个字段缺少显示名称。") % {"n": where}
    if ftype not in (SCALAR_TYPES if sub else TYPES):
        errors[f"{where}.type"] = _("第 %(n)s 个字段的类型“%(t)s”不可用。") % {
            "n": where,
            "t": ftype,
        }
        return None
    d: dict[str, Any] = {
        "key": key,
        "label": label[:60],
        "type": ftype,
        "required": bool(raw.get("required")) and ftype not in ("computed", "boolean"),
        "required_when": str(raw.get("required_when") or "").strip(),
        "help_text": str(raw.get("help_text") or "").strip()[:200],
    }
    if d["required_when"]:
        problem = check_expression(d["required_when"])
        if problem:
            errors[f"{where}.required_when"] = _("必填条件无法解析：%(e)s") % {"e": problem}
    if ftype in SCALAR_TYPES:
        _scalar_parts(d, raw, where, errors)
    elif ftype == "computed":
        _computed_parts(d, raw, where, errors)
    elif ftype == "subtable":
        _subtable_parts(d, raw, where, errors, roles)
    else:
        try:
            d["max_files"] = max(1, min(MAX_FILES, int(raw.get("max_files") or MAX_FILES)))
        except (TypeError, ValueError):
            d["max_files"] = MAX_FILES
    if not sub:
        _role_parts(d, raw, where, errors, roles)
    return d


def _scalar_parts(
    d: dict[str, Any], raw: Mapping[str, Any], where: str, errors: dict[str, str]
) -> None:
    ftype = d["type"]
    if ftype in ("choice", "multi_choice"):
        d["options"] = _options(raw.get("options"))
    if ftype in ("number", "money"):
        try:
            d["min"], d["max"] = _dec(raw.get("min")), _dec(raw.get("max"))
        except ValueError as exc:
            errors[f"{where}.min"] = _("最小值/最大值不是数字：%(v)s") % {"v": exc}
            d["min"] = d["max"] = ""
    if ftype == "text":
        d["regex"] = str(raw.get("regex") or "").strip()
    try:
        cf.validate_definition(
            field_type=_cf_type(ftype),
            options=d.get("options", []),
            regex=d.get("regex", ""),
            min_value=Decimal(d["min"]) if d.get("min") else None,
            max_value=Decimal(d["max"]) if d.get("max") else None,
        )
    except ValidationError as exc:
        errors[f"{where}.options"] = "；".join(exc.messages)


def _computed_parts(
    d: dict[str, Any], raw: Mapping[str, Any], where: str, errors: dict[str, str]
) -> None:
    d["expression"] = str(raw.get("expression") or "").strip()
    d["result_type"] = str(raw.get("result_type") or "number")
    if d["result_type"] not in RESULT_TYPES:
        d["result_type"] = "number"
    if not d["expression"]:
        errors[f"{where}.expression"] = _("计算字段“%(l)s”需要公式。") % {"l": d["label"]}
        return
    problem = check_expression(d["expression"])
    if problem:
        errors[f"{where}.expression"] = _("公式无法解析：%(e)s") % {"e": problem}


def _subtable_parts(
    d: dict[str, Any],
    raw: Mapping[str, Any],
    where: str,
    errors: dict[str, str],
    roles: set[str] | None,
) -> None:
    columns = []
    seen: set[str] = set()
    raw_columns = list(raw.get("columns") or [])
    if not raw_columns:
        errors[f"{where}.columns"] = _("子表“%(l)s”至少需要一列。") % {"l": d["label"]}
    for ci, col in enumerate(raw_columns, 1):
        c = _normalize_one(col, f"{where}.{ci}", errors, roles, sub=True)
        if c is None:
            continue
        if c["key"] in seen:
            errors[f"{where}.{ci}.key"] = _("子表列标识“%(k)s”重复。") % {"k": c["key"]}
        seen.add(c["key"])
        columns.append(c)
    d["columns"] = columns


def _role_parts(
    d: dict[str, Any],
    raw: Mapping[str, Any],
    where: str,
    errors: dict[str, str],
    roles: set[str] | None,
) -> None:
    d["view_roles"] = _codes(raw.get("view_roles"))
    d["edit_roles"] = _codes(raw.get("edit_roles"))
    d["show_in_list"] = bool(raw.get("show_in_list"))
    if roles is not None:
        unknown = [c for c in d["view_roles"] + d["edit_roles"] if c not in roles]
        if unknown:
            errors[f"{where}.roles"] = _("未知的角色：%(c)s") % {"c": "、".join(unknown)}


def parse_columns(text: str) -> list[dict[str, Any]]:
    """The designer's column lines ``标识:名称:类型[:必填][:选项1/选项2]`` → column dicts,
    e.g. ``item:检查项目:text:必填`` or ``result:结果:choice::正常/异常``."""
    columns = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in re.split(r"[:：]", line)]
        parts += [""] * (5 - len(parts))
        columns.append(
            {
                "key": parts[0],
                "label": parts[1],
                "type": parts[2] or "text",
                "required": parts[3] in ("必填", "required", "1", "是"),
                "options": [o for o in re.split(r"[/／]", parts[4]) if o.strip()],
            }
        )
    return columns


def columns_text(columns: Iterable[Mapping[str, Any]]) -> str:
    lines = []
    for c in columns:
        opts = "/".join(str(o.get("label", o.get("value"))) for o in c.get("options", []))
        req = "必填" if c.get("required") else ""
        lines.append(":".join([c["key"], c["label"], c["type"], req, opts]).rstrip(":"))
    return "\n".join(lines)


def parse_options(text: str) -> list[dict[str, str]]:
    """One option a line: ``值=显示名称`` or just the name (then it is also the value)."""
    out = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        value, _sep, label = line.partition("=")
        out.append({"value": value.strip(), "label": (label or value).strip()})
    return out


def options_text(options: Iterable[Mapping[str, Any]]) -> str:
    return "\n".join(
        o["value"] if o["value"] == o["label"] else f"{o['value']}={o['label']}" for o in options
    )


# --- one field as a custom field ----------------------------------------------------------------
def _cf_type(ftype: str) -> str:
    return FieldType.TEXT if ftype == "textarea" else ftype


def as_custom_field(d: Mapping[str, Any]) -> CustomField:
    """An unsaved :class:`CustomField` for a scalar definition, so the custom-field engine
    validates, stores and displays the value exactly as it does for customers and loans."""
    return CustomField(
        entity="customer",
        key=d["key"],
        label=d["label"],
        field_type=_cf_type(d["type"]),
        options=d.get("options", []),
        required=False,
        min_value=Decimal(d["min"]) if d.get("min") else None,
        max_value=Decimal(d["max"]) if d.get("max") else None,
        regex=d.get("regex", ""),
        help_text=d.get("help_text", ""),
    )


def _clean_scalar(d: Mapping[str, Any], value: Any) -> Any:
    if d["type"] == "textarea":
        text = str(value).strip()
        if len(text) > TEXTAREA_MAX:
            raise ValidationError(_("不能超过 %(n)s 个字。") % {"n": TEXTAREA_MAX})
        return text
    if d["type"] == "text" and len(str(value)) > 500:
        raise ValidationError(_("不能超过 500 个字。"))
    return cf.clean_value(as_custom_field(d), value)


def _empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


# --- roles ---------------------------------------------------------------------------------------
@dataclass
class Viewer:
    """Who is looking: role codes (``None`` = every field, e.g. a superuser or the system)."""

    roles: set[str] | None = None

    @classmethod
    def of(cls, user: Any) -> Viewer:
        if user is None or getattr(user, "is_superuser", False):
            return cls(None)
        cached = getattr(user, "_records_role_codes", None)
        if cached is None:
            cached = (
                set(user.roles.values_list("code", flat=True)) if user.is_authenticated else set()
            )
            user._records_role_codes = cached
        return cls(set(cached))

    def allows(self, codes: Iterable[str]) -> bool:
        codes = list(codes or [])
        return self.roles is None or not codes or bool(self.roles & set(codes))

    def can_view(self, d: Mapping[str, Any]) -> bool:
        return self.allows(d.get("view_roles", []))

    def can_edit(self, d: Mapping[str, Any]) -> bool:
        return d["type"] != "computed" and self.can_view(d) and self.allows(d.get("edit_roles", []))


# --- validation -----------------------------------------------------------------------------------
@dataclass
class Upload:
    name: str
    data: bytes


@dataclass
class Cleaned:
    values: dict[str, Any]
    errors: dict[str, str]
    uploads: dict[str, list[Upload]] = field(default_factory=dict)
    removed: dict[str, list[int]] = field(default_factory=dict)


def zen_value(d: Mapping[str, Any], value: Any) -> Any:
    """A stored value as formula input: money in 元 and numbers as numbers (the ZEN binding
    takes no Decimal; a formula result is rounded back to 分 when stored)."""
    if value is None:
        return None
    t = d["type"] if d["type"] != "computed" else d.get("result_type", "number")
    if t in ("number", "money"):
        try:
            amount = Decimal(str(value)) / 100 if t == "money" else Decimal(str(value))
        except InvalidOperation:
            return None
        return int(amount) if amount == amount.to_integral_value() else float(amount)
    if t == "subtable":
        return [{c["key"]: zen_value(c, row.get(c["key"])) for c in d["columns"]} for row in value]
    if t in FILE_TYPES:
        return len(value)
    return value


def _computed_storage(d: Mapping[str, Any], result: Any) -> Any:
    if result is None:
        return None
    t = d.get("result_type", "number")
    try:
        if t == "boolean":
            return bool(result)
        if t == "text":
            return str(result)[:500]
        if isinstance(result, bool):
            return None
        amount = Decimal(str(result))
        if t == "money":
            return Money(amount.quantize(FEN)).fen
        return format(amount.quantize(Decimal("0.0001")).normalize(), "f")
    except (InvalidOperation, ValueError):
        return None


def context_of(fields: list[dict[str, Any]], values: Mapping[str, Any]) -> dict[str, Any]:
    return {d["key"]: zen_value(d, values.get(d["key"])) for d in fields}


def validate(
    fields: list[dict[str, Any]],
    raw: Mapping[str, Any],
    *,
    viewer: Viewer,
    existing: Mapping[str, Any] | None = None,
    uploads: Mapping[str, list[Upload]] | None = None,
    removed: Mapping[str, list[int]] | None = None,
    strict_keys: bool = False,
) -> Cleaned:
    """Raw input (web form already flattened, or API JSON) → stored values and 中文 errors.

    Values of fields the viewer may not edit are kept from ``existing``; sending one is an error
    in strict mode (the API). Computed fields are recalculated from the result; required rules
    ("always" or a ZEN condition over the values) are checked last."""
    out = Cleaned(values={}, errors={}, uploads=dict(uploads or {}), removed=dict(removed or {}))
    existing = dict(existing or {})
    if strict_keys:
        known = {d["key"] for d in fields}
        for key in raw:
            if key not in known:
                out.errors[key] = _("未知的字段。")
    for d in fields:
        if d["type"] == "computed":
            continue
        if not viewer.can_edit(d):
            if strict_keys and d["key"] in raw:
                out.errors[d["key"]] = _("无权编辑此字段。")
            if d["key"] in existing:
                out.values[d["key"]] = existing[d["key"]]
        elif d["type"] in FILE_TYPES:
            _keep_files(d, raw, existing, out, strict_keys)
        else:
            _clean_input(d, raw.get(d["key"]), out)
    context = _compute(fields, out)
    for d in fields:
        key = d["key"]
        if key in out.errors or d["type"] == "computed" or not viewer.can_edit(d):
            continue
        filled = not _empty(out.values.get(key))
        if d["type"] in FILE_TYPES:
            filled = bool(out.values.get(key)) or bool(out.uploads.get(key))
        if not filled and is_required(d, context):
            out.errors[key] = _("此字段为必填项。")
    return out


def _keep_files(
    d: Mapping[str, Any],
    raw: Mapping[str, Any],
    existing: Mapping[str, Any],
    out: Cleaned,
    strict_keys: bool,
) -> None:
    key = d["key"]
    gone = set(out.removed.get(key, []))
    kept = [i for i in existing.get(key) or [] if i not in gone]
    if key in raw and strict_keys:
        out.errors[key] = _("附件和照片请在页面上传。")
    limit = d.get("max_files", MAX_FILES)
    if len(kept) + len(out.uploads.get(key, [])) > limit:
        out.errors[key] = _("最多 %(n)s 个文件。") % {"n": limit}
    out.values[key] = kept


def _clean_input(d: Mapping[str, Any], value: Any, out: Cleaned) -> None:
    key, t = d["key"], d["type"]
    if t == "subtable":
        rows = _clean_rows(d, value, out.errors)
        if rows:
            out.values[key] = rows
        return
    if _empty(value):
        return
    try:
        stored = _clean_scalar(d, value)
    except ValidationError as exc:
        out.errors[key] = "；".join(str(m) for m in exc.messages)
        return
    if t == "boolean":
        out.values[key] = bool(stored)
    elif stored is not None:
        out.values[key] = stored


def _compute(fields: list[dict[str, Any]], out: Cleaned) -> dict[str, Any]:
    """Formulas in definition order (a formula may use an earlier formula's result); returns
    the formula context, also used by the required conditions."""
    context = context_of(fields, out.values)
    for d in fields:
        if d["type"] in FILE_TYPES:
            context[d["key"]] = len(out.values.get(d["key"], [])) + len(
                out.uploads.get(d["key"], [])
            )
    for d in fields:
        if d["type"] != "computed":
            continue
        stored = _computed_storage(d, evaluate(d["expression"], context))
        if stored is not None:
            out.values[d["key"]] = stored
        context[d["key"]] = zen_value(d, stored)
    return context


def is_required(d: Mapping[str, Any], context: Mapping[str, Any]) -> bool:
    if not d.get("required"):
        return False
    if not d.get("required_when"):
        return True
    return evaluate(d["required_when"], context) is True


def _clean_rows(d: Mapping[str, Any], value: Any, errors: dict[str, str]) -> list[dict[str, Any]]:
    if _empty(value):
        return []
    if not isinstance(value, list) or not all(isinstance(r, Mapping) for r in value):
        errors[d["key"]] = _("子表内容应为多行对象。")
        return []
    if len(value) > MAX_ROWS:
        errors[d["key"]] = _("子表最多 %(n)s 行。") % {"n": MAX_ROWS}
        return []
    rows = []
    for index, raw_row in enumerate(value, 1):
        if all(_empty(raw_row.get(c["key"])) for c in d["columns"]):
            continue
        row: dict[str, Any] = {}
        for c in d["columns"]:
            v = raw_row.get(c["key"])
            where = f"{d['key']}.{index}.{c['key']}"
            if _empty(v) or (c["type"] == "boolean" and v is False):
                if c.get("required"):
                    errors[where] = _("第 %(n)s 行“%(c)s”为必填项。") % {
                        "n": index,
                        "c": c["label"],
                    }
                continue
            try:
                stored = _clean_scalar(c, v)
            except ValidationError as exc:
                errors[where] = _("第 %(n)s 行“%(c)s”：%(e)s") % {
                    "n": index,
                    "c": c["label"],
                    "e": "；".join(str(m) for m in exc.messages),
                }
                continue
            if stored is not None:
                row[c["key"]] = stored
        rows.append(row)
    return rows


# --- display, export, JSON -------------------------------------------------------------------------
def display(d: Mapping[str, Any], value: Any) -> str:
    """A stored value as text (lists, detail pages)."""
    if _empty(value):
        return ""
    t = d["type"]
    if t == "computed":
        t = d.get("result_type", "number")
        if t == "money":
            return Money.from_fen(int(value)).format()
        if t == "boolean":
            return _("是") if value else _("否")
        return str(value)
    if t == "subtable":
        return _("%(n)s 行") % {"n": len(value)}
    if t in FILE_TYPES:
        return _("%(n)s 个文件") % {"n": len(value)}
    if t == "textarea":
        return str(value)
    return cf.display(as_custom_field(d), value)


def export_value(d: Mapping[str, Any], value: Any) -> Any:
    """Excel cell: numbers stay numbers, money in 元, dates as dates."""
    if _empty(value):
        return None
    t = d["type"] if d["type"] != "computed" else d.get("result_type", "number")
    if t == "money":
        return Money.from_fen(int(value)).yuan
    if t == "number":
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return str(value)
    if t == "date":
        return dt.date.fromisoformat(value)
    if t == "subtable":
        return "；".join(
            "，".join(
                f"{c['label']}:{display(c, row.get(c['key']))}"
                for c in d["columns"]
                if not _empty(row.get(c["key"]))
            )
            for row in value
        )
    return display(d, value)


def api_value(d: Mapping[str, Any], value: Any, files: Mapping[int, Any] | None = None) -> Any:
    """A stored value as the API gives it (money as a 元 decimal string, the same form it
    accepts; files as ``{id, name, content_type}``)."""
    if value is None:
        return None
    t = d["type"] if d["type"] != "computed" else d.get("result_type", "number")
    if t == "money":
        return format(Money.from_fen(int(value)).yuan, "f")
    if t == "subtable":
        return [{c["key"]: api_value(c, row.get(c["key"])) for c in d["columns"]} for row in value]
    if t in FILE_TYPES:
        files = files or {}
        return [
            {"id": i, "name": files[i].original_name, "content_type": files[i].content_type}
            for i in value
            if i in files
        ]
    return value


_JSON: dict[str, dict[str, Any]] = {
    "text": {"type": "string", "maxLength": 500},
    "textarea": {"type": "string", "maxLength": TEXTAREA_MAX},
    "number": {"type": "string", "pattern": r"^-?\d+(\.\d{1,4})?$"},
    "money": {"type": "string", "pattern": r"^\d+(\.\d{1,2})?$", "description": "元，两位小数"},
    "date": {"type": "string", "format": "date"},
    "choice": {"type": "string"},
    "multi_choice": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    "boolean": {"type": "boolean"},
}


def _prop(d: Mapping[str, Any]) -> dict[str, Any]:
    t = d["type"]
    if t in SCALAR_TYPES:
        schema: dict[str, Any] = {k: v for k, v in _JSON[t].items()}
        if d.get("options"):
            enum = [o["value"] for o in d["options"]]
            if t == "multi_choice":
                schema["items"] = {"type": "string", "enum": enum}
            else:
                schema["enum"] = enum
        if d.get("regex"):
            schema["pattern"] = d["regex"]
    elif t == "subtable":
        schema = {
            "type": "array",
            "maxItems": MAX_ROWS,
            "items": {
                "type": "object",
                "properties": {c["key"]: _prop(c) for c in d["columns"]},
                "required": [c["key"] for c in d["columns"] if c.get("required")],
                "additionalProperties": False,
            },
        }
    elif t == "computed":
        rt = d.get("result_type", "number")
        schema = {**_JSON.get(rt, {"type": "string"}), "readOnly": True}
        schema.pop("maxLength", None)
        schema["x-credo-expression"] = d.get("expression", "")
    else:
        schema = {
            "type": "array",
            "readOnly": True,
            "maxItems": d.get("max_files", MAX_FILES),
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "content_type": {"type": "string"},
                },
            },
        }
    schema["title"] = d["label"]
    if d.get("help_text"):
        schema["description"] = d["help_text"]
    if d.get("required_when"):
        schema["x-credo-required-when"] = d["required_when"]
    schema["x-credo-type"] = t
    return schema


def json_schema(
    fields: list[dict[str, Any]], *, title: str, schema_id: str = "", viewer: Viewer | None = None
) -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of a version's values as the API accepts and returns them.
    Fields the viewer may not see are left out; conditionally required fields carry their ZEN
    condition in ``x-credo-required-when`` and are not listed in ``required``."""
    visible = [d for d in fields if viewer is None or viewer.can_view(d)]
    out: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": title,
        "type": "object",
        "properties": {d["key"]: _prop(d) for d in visible},
        "required": [
            d["key"]
            for d in visible
            if d.get("required") and not d.get("required_when") and d["type"] not in FILE_TYPES
        ],
        "additionalProperties": False,
    }
    if schema_id:
        out["$id"] = schema_id
    return out
