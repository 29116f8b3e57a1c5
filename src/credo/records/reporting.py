"""What the report engine (报表 → 自定义报表) offers over custom records, declared as plain
data so the reports app (above records) builds its ``Dataset`` from it without records
importing reports: one dataset ``records`` with the record type, parent kind, filler and month
as dimensions, and each record type's list fields (choice / yes-no / text) as extra dimensions.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import TruncMonth
from django.utils.translation import gettext_lazy as _


def _base(user: Any) -> Any:
    from credo.records.selectors import records_for

    return records_for(user)


def _record_types() -> dict[int, str]:
    from credo.records.models import RecordType

    return dict(RecordType.objects.values_list("pk", "name"))


def _attached_to() -> dict[str, str]:
    from credo.records.models import AttachedTo

    return {k: str(v) for k, v in AttachedTo.choices}


def _users() -> dict[int, str]:
    from credo.accounts.models import User

    return {
        pk: display or username
        for pk, display, username in User.objects.values_list("pk", "display_name", "username")
    }


DATASET: dict[str, Any] = {
    "key": "records",
    "label": _("自定义表单记录"),
    "base": _base,
    "permission": "records.view_customrecord",
    "description": _(
        "自定义表单（尽调报告、贷后检查表等）的填写记录：按表单、填写人、月份和表单字段统计。"
    ),
    "date_dimension": "month",
}
# (key, label, expression, kind, choices)
DIMENSIONS: list[tuple[Any, ...]] = [
    ("record_type", _("表单"), "record_type_id", "choice", _record_types),
    ("attached_to", _("挂接对象"), "record_type__attached_to", "choice", _attached_to),
    ("created_by", _("填写人"), "created_by_id", "choice", _users),
    ("month", _("填写月份"), (lambda: TruncMonth("created_at")), "month", None),
]
# (key, label, aggregate, fmt)
MEASURES: list[tuple[Any, ...]] = [
    ("count", _("记录数"), lambda: Count("id"), "int"),
    ("customers", _("客户数"), lambda: Count("customer_id", distinct=True), "int"),
]


def extra_dimensions(user: Any) -> list[tuple[Any, ...]]:
    """The list fields of every record type the user may see, e.g. 贷后检查表 · 检查结论."""
    from credo.records.selectors import report_fields

    return [
        (key, label, (lambda k=values_key: KeyTextTransform(k, "values")), "text", None)
        for key, label, values_key in report_fields(user)
    ]
