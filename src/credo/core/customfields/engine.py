"""The form engine: custom field definitions → form fields, validation, storage, display,
list filters/columns, export values and an API schema.

Stored representation (JSON, in the entity's ``custom`` column): text/choice → str, number →
decimal string, money → integer fen, date → ISO date, multi_choice → list of str, boolean →
bool, file → ``{"name": original name, "path": storage path}``.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from credo.core.customfields.models import CustomField, FieldType
from credo.core.forms import IsoDateInput
from credo.core.money import Money, parse_money

PREFIX = "cf_"
MAX_FILE_BYTES = 10 * 1024 * 1024
ALLOWED_FILE_SUFFIXES = {".pdf", ".jpg", ".jpeg", ".png", ".xlsx", ".xls", ".docx", ".doc"}


def active_fields(entity: str) -> list[CustomField]:
    """The entity's active fields; read once per request (a list page asks for its columns,
    its filters and each row's values)."""
    from credo.core.context import request_memo

    memo = request_memo()
    key = f"customfields:{entity}"
    if memo is not None and key in memo:
        return list(memo[key])
    fields = list(
        CustomField.objects.filter(entity=entity, is_active=True).prefetch_related(
            "view_roles", "edit_roles"
        )
    )
    if memo is not None:
        memo[key] = fields
    return list(fields)


def forget_active_fields(**kwargs: Any) -> None:
    """A field definition changed during the request (the field admin pages)."""
    from credo.core.context import request_memo

    memo = request_memo()
    if memo is not None:
        for key in [k for k in memo if k.startswith("customfields:")]:
            del memo[key]


def _role_ids(user: Any) -> set[int]:
    cache = getattr(user, "_cf_role_ids", None)
    if cache is None:
        cache = set(user.roles.values_list("id", flat=True)) if user.is_authenticated else set()
        user._cf_role_ids = cache
    return cache


def can_view(field: CustomField, user: Any) -> bool:
    if user is None or getattr(user, "is_superuser", False):
        return user is not None
    allowed = {r.id for r in field.view_roles.all()}
    return not allowed or bool(allowed & _role_ids(user))


def can_edit(field: CustomField, user: Any) -> bool:
    if user is None or getattr(user, "is_superuser", False):
        return user is not None
    allowed = {r.id for r in field.edit_roles.all()}
    return can_view(field, user) and (not allowed or bool(allowed & _role_ids(user)))


def visible_fields(entity: str, user: Any) -> list[CustomField]:
    return [f for f in active_fields(entity) if can_view(f, user)]


# --- form fields ------------------------------------------------------------------------------
def form_field(field: CustomField) -> forms.Field:
    common: dict[str, Any] = {
        "label": field.label,
        "required": field.required,
        "help_text": field.help_text,
    }
    ftype = field.field_type
    choices = [(str(o.get("value")), str(o.get("label", o.get("value")))) for o in field.options]
    if ftype == FieldType.TEXT:
        validators = [RegexValidator(field.regex, _("格式不正确。"))] if field.regex else []
        return forms.CharField(max_length=500, validators=validators, **common)
    if ftype == FieldType.NUMBER:
        return forms.DecimalField(
            min_value=field.min_value,
            max_value=field.max_value,
            max_digits=20,
            decimal_places=4,
            **common,
        )
    if ftype == FieldType.MONEY:
        return forms.DecimalField(
            min_value=field.min_value,
            max_value=field.max_value,
            max_digits=17,
            decimal_places=2,
            **common,
        )
    if ftype == FieldType.DATE:
        return forms.DateField(widget=IsoDateInput(), **common)
    if ftype == FieldType.CHOICE:
        return forms.ChoiceField(choices=[("", "—"), *choices], **common)
    if ftype == FieldType.MULTI_CHOICE:
        return forms.MultipleChoiceField(
            choices=choices, widget=forms.CheckboxSelectMultiple, **common
        )
    if ftype == FieldType.BOOLEAN:
        return forms.BooleanField(**{**common, "required": False})
    return forms.FileField(**common)


def add_form_fields(form: forms.Form, entity: str, user: Any, stored: Mapping[str, Any]) -> None:
    """Add editable custom fields (``cf_<key>``) to ``form`` with initial values."""
    form.custom_field_defs = []  # type: ignore[attr-defined]
    for field in active_fields(entity):
        if not can_edit(field, user):
            continue
        name = PREFIX + field.key
        form.fields[name] = form_field(field)
        if field.key in stored:
            form.initial[name] = to_form_value(field, stored[field.key])
        if field.field_type == FieldType.FILE and field.key in stored:
            form.fields[name].required = False  # keep the existing file unless replaced
        form.custom_field_defs.append(field)  # type: ignore[attr-defined]


def to_form_value(field: CustomField, value: Any) -> Any:
    if value is None:
        return None
    if field.field_type == FieldType.MONEY:
        return Money.from_fen(int(value)).yuan
    if field.field_type == FieldType.NUMBER:
        return Decimal(str(value))
    if field.field_type == FieldType.DATE:
        return dt.date.fromisoformat(value)
    return value


def _store_file(field: CustomField, upload: Any) -> dict[str, str]:
    suffix = PurePath(upload.name).suffix.lower()
    if suffix not in ALLOWED_FILE_SUFFIXES:
        raise ValidationError(_("不支持的文件类型：%(suffix)s") % {"suffix": suffix or "?"})
    if upload.size > MAX_FILE_BYTES:
        raise ValidationError(_("文件不能超过 10 MB。"))
    path = default_storage.save(f"custom/{field.entity}/{uuid.uuid4().hex}{suffix}", upload)
    return {"name": PurePath(upload.name).name[:120], "path": path}


def to_storage(field: CustomField, value: Any) -> Any:
    """A cleaned Python value → its JSON representation (``None`` = empty)."""
    if value in (None, "", []):
        return None
    ftype = field.field_type
    if ftype == FieldType.NUMBER:
        return format(Decimal(value).normalize(), "f")
    if ftype == FieldType.MONEY:
        return Money(Decimal(value)).fen
    if ftype == FieldType.DATE:
        return value.isoformat()
    if ftype == FieldType.MULTI_CHOICE:
        return [str(v) for v in value]
    if ftype == FieldType.BOOLEAN:
        return bool(value)
    if ftype == FieldType.FILE:
        return _store_file(field, value)
    return str(value)


def merge_cleaned(
    entity: str, user: Any, cleaned: Mapping[str, Any], existing: Mapping[str, Any]
) -> dict[str, Any]:
    """New ``custom`` dict: editable fields from the form, everything else kept as it was
    (values of retired fields and of fields this user may not edit are never lost)."""
    result = dict(existing)
    for field in active_fields(entity):
        name = PREFIX + field.key
        if name not in cleaned or not can_edit(field, user):
            continue
        value = cleaned[name]
        if field.field_type == FieldType.FILE and not value:
            continue
        stored = to_storage(field, value)
        if stored is None and field.field_type != FieldType.BOOLEAN:
            result.pop(field.key, None)
        else:
            result[field.key] = stored if stored is not None else False
    return result


def _option_values(field: CustomField, value: Any) -> Any:
    """Imports and API callers may give option labels (转介绍) or values (ref); multi-choice
    also as one string separated by 、 , ； or ;."""
    by_label = {label: key for key, label in field.option_labels.items()}

    def one(item: Any) -> str:
        text = str(item).strip()
        return by_label.get(text, text)

    if field.field_type == FieldType.CHOICE:
        return one(value)
    items = value if isinstance(value, list | tuple) else re.split(r"[、,，;；]", str(value))
    return [one(i) for i in items if str(i).strip()]


def validate_raw(
    entity: str, raw: Mapping[str, Any], *, user: Any = None, partial: bool = False
) -> tuple[dict[str, Any], dict[str, str]]:
    """API / import input (strings, numbers, lists) → (stored values, {key: 中文错误})."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    known = {f.key: f for f in active_fields(entity)}
    for key in raw:
        if key not in known:
            errors[key] = _("未知的自定义字段。")
    for key, field in known.items():
        if user is not None and key in raw and not can_edit(field, user):
            errors[key] = _("无权编辑此字段。")
            continue
        if field.field_type == FieldType.FILE:
            continue  # files only through the form/upload endpoint
        value = raw.get(key)
        if value in (None, "", []):
            if field.required and not partial:
                errors[key] = _("此字段为必填项。")
            continue
        try:
            values[key] = clean_value(field, value)
        except ValidationError as exc:
            errors[key] = "；".join(str(m) for m in exc.messages)
    return values, errors


def clean_value(field: CustomField, value: Any) -> Any:
    """One non-empty raw value (API, import, or a definition held outside the table such as a
    custom record type's field) → its stored form; raises ``ValidationError`` (中文)."""
    ff = form_field(field)
    if field.field_type == FieldType.MONEY:
        value = parse_money(value).yuan
    elif field.field_type in (FieldType.CHOICE, FieldType.MULTI_CHOICE):
        value = _option_values(field, value)
    elif field.field_type == FieldType.BOOLEAN and isinstance(value, str):
        value = value.strip().lower() in {"1", "true", "是", "yes", "y", "on"}
    return to_storage(field, ff.clean(value))


# --- display, filters, columns ------------------------------------------------------------------
def display(field: CustomField, value: Any) -> str:
    if value is None or value == "" or value == []:
        return ""
    ftype = field.field_type
    if ftype == FieldType.MONEY:
        return Money.from_fen(int(value)).format()
    if ftype == FieldType.CHOICE:
        return field.option_labels.get(str(value), str(value))
    if ftype == FieldType.MULTI_CHOICE:
        return "、".join(field.option_labels.get(str(v), str(v)) for v in value)
    if ftype == FieldType.BOOLEAN:
        return _("是") if value else _("否")
    if ftype == FieldType.FILE:
        return str(value.get("name", "")) if isinstance(value, dict) else str(value)
    return str(value)


def display_rows(entity: str, user: Any, stored: Mapping[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for field in visible_fields(entity, user):
        rows.append(
            {
                "key": field.key,
                "label": field.label,
                "group": field.group,
                "value": display(field, stored.get(field.key)),
                "raw": stored.get(field.key),
            }
        )
    return rows


def filter_fields(entity: str, user: Any) -> list[CustomField]:
    return [f for f in visible_fields(entity, user) if f.filterable]


def list_columns(entity: str, user: Any) -> list[CustomField]:
    return [f for f in visible_fields(entity, user) if f.show_in_list]


def apply_filters(
    qs: QuerySet[Any], entity: str, user: Any, params: Mapping[str, Any], *, column: str = "custom"
) -> QuerySet[Any]:
    """``?cf_<key>=value`` filters on filterable fields; JSON lookups work on SQLite and PG."""
    for field in filter_fields(entity, user):
        raw = params.get(PREFIX + field.key)
        if raw in (None, ""):
            continue
        lookup = f"{column}__{field.key}"
        ftype = field.field_type
        if ftype == FieldType.BOOLEAN:
            qs = qs.filter(**{lookup: raw in ("1", "true", "on", "是")})
        elif ftype == FieldType.MULTI_CHOICE:
            # The stored list as JSON text contains '"value"' on SQLite and PostgreSQL alike.
            qs = qs.filter(**{f"{lookup}__icontains": f'"{raw}"'})
        elif ftype == FieldType.MONEY:
            try:
                qs = qs.filter(**{lookup: parse_money(raw).fen})
            except ValidationError:
                return qs.none()
        elif ftype == FieldType.TEXT:
            qs = qs.filter(**{f"{lookup}__icontains": str(raw)})
        else:
            qs = qs.filter(**{lookup: str(raw)})
    return qs


def export_value(field: CustomField, value: Any) -> Any:
    """Excel cell value: numbers stay numbers."""
    if value is None:
        return None
    if field.field_type == FieldType.MONEY:
        return Money.from_fen(int(value)).yuan
    if field.field_type == FieldType.NUMBER:
        try:
            return Decimal(str(value))
        except InvalidOperation:
            return str(value)
    if field.field_type == FieldType.DATE:
        return dt.date.fromisoformat(value)
    return display(field, value)


_JSON_TYPES: dict[str, dict[str, Any]] = {
    FieldType.TEXT: {"type": "string"},
    FieldType.NUMBER: {"type": "string", "format": "decimal"},
    FieldType.MONEY: {"type": "string", "format": "decimal", "description": "元，两位小数"},
    FieldType.DATE: {"type": "string", "format": "date"},
    FieldType.CHOICE: {"type": "string"},
    FieldType.MULTI_CHOICE: {"type": "array", "items": {"type": "string"}},
    FieldType.BOOLEAN: {"type": "boolean"},
    FieldType.FILE: {"type": "object", "readOnly": True},
}


def json_schema(entity: str, fields: Iterable[CustomField] | None = None) -> dict[str, Any]:
    props: dict[str, Any] = {}
    required = []
    for field in fields if fields is not None else active_fields(entity):
        schema: dict[str, Any] = dict(_JSON_TYPES[field.field_type])
        schema["title"] = field.label
        if field.options:
            enum = [str(o.get("value")) for o in field.options]
            if field.field_type == FieldType.MULTI_CHOICE:
                schema["items"] = {"type": "string", "enum": enum}
            else:
                schema["enum"] = enum
        if field.regex:
            schema["pattern"] = field.regex
        props[field.key] = schema
        if field.required:
            required.append(field.key)
    return {"type": "object", "properties": props, "required": required}


def validate_definition(
    *,
    field_type: str,
    options: list[dict[str, Any]],
    regex: str,
    min_value: Decimal | None,
    max_value: Decimal | None,
) -> None:
    if field_type in (FieldType.CHOICE, FieldType.MULTI_CHOICE) and not options:
        raise ValidationError(_("单选/多选字段至少需要一个选项。"))
    values = [str(o.get("value", "")).strip() for o in options]
    if any(not v for v in values) or len(set(values)) != len(values):
        raise ValidationError(_("选项值不能为空且不能重复。"))
    if regex:
        try:
            re.compile(regex)
        except re.error as exc:
            raise ValidationError(_("正则表达式无效：%(err)s") % {"err": exc}) from None
    if min_value is not None and max_value is not None and min_value > max_value:
        raise ValidationError(_("最小值不能大于最大值。"))
