"""The semantic layer of the report engine (报表引擎): datasets declared in code.

A :class:`Dataset` names a scoped base queryset, its dimensions (group-by / filter columns) and
measures (aggregates). :func:`run_query` turns a spec ``{dimensions, measures, filters, order,
limit}`` into ONE aggregate query (``values(*dims).annotate(**measures)``): rows are never loaded
into Python to be summed. Apps register their own datasets (leads, applications, collections)
from ``AppConfig.ready`` with :func:`register_dataset`.

Field permissions: a dimension bound to a sensitive field (``sensitive="app.model.field"``) is
only offered to, and only accepted from, users whose field access is not "masked"; a filter on a
dimension the user may not see is refused with :class:`QueryError`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist, FieldError, ValidationError
from django.db.models import Expression, F, Q, QuerySet
from django.utils.translation import gettext as _

from credo.accounts.fieldperms import MASKED, field_access
from credo.core.money import format_fen
from credo.core.registry import Registry

MAX_ROWS = 5000
FILTER_OPS = ("eq", "ne", "in", "gte", "lte", "contains", "isnull")


class QueryError(ValueError):
    """A report spec that cannot run; ``message`` is for users (Chinese)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Dimension:
    key: str
    label: Any
    expr: str | Expression | Callable[[], Expression]
    kind: str = "text"  # text | choice | date | month | number | bool
    choices: Mapping[Any, Any] | Callable[[], Mapping[Any, Any]] | None = None
    sensitive: str = ""  # "app.model.field" → subject to field permissions

    def expression(self) -> Any:
        if isinstance(self.expr, str):
            return F(self.expr)
        if callable(self.expr) and not isinstance(self.expr, Expression):
            return self.expr()
        return self.expr

    def label_for(self, value: Any) -> Any:
        choices = self.choices() if callable(self.choices) else self.choices
        if choices is None:
            return value
        return choices.get(value, value if value not in (None, "") else _("（空）"))


@dataclass(frozen=True)
class Measure:
    key: str
    label: Any
    aggregate: Callable[[], Any] | None = None  # e.g. lambda: Sum("outstanding_principal")
    fmt: str = "int"  # int | money (fen) | pct | days
    # derived: computed from other measures of the same row, e.g. ratio of two sums
    ratio_of: tuple[str, str] | None = None


@dataclass(frozen=True)
class Dataset:
    key: str
    label: Any
    base: Callable[[Any], QuerySet[Any]]  # user → scoped queryset
    dimensions: list[Dimension]
    measures: list[Measure]
    permission: str = ""
    description: Any = ""
    date_dimension: str = ""  # the dimension used for period filters on dashboards
    extra_dimensions: Callable[[Any], Iterable[Dimension]] | None = None  # e.g. custom fields

    def dims_for(self, user: Any) -> dict[str, Dimension]:
        dims = list(self.dimensions)
        if self.extra_dimensions is not None:
            dims.extend(self.extra_dimensions(user))
        return {
            d.key: d for d in dims if not d.sensitive or field_access(user, d.sensitive) != MASKED
        }

    def measure_map(self) -> dict[str, Measure]:
        return {m.key: m for m in self.measures}


#: key → dataset; registering a key again replaces it.
dataset_registry: Registry[Dataset] = Registry("report datasets", on_duplicate="replace")


def register_dataset(dataset: Dataset) -> None:
    dataset_registry.register(dataset.key, dataset)


def datasets_for(user: Any) -> list[Dataset]:
    return [
        d
        for d in sorted(dataset_registry, key=lambda d: d.key)
        if not d.permission or user.has_perm(d.permission)
    ]


def get_dataset(key: str, user: Any) -> Dataset:
    ds = dataset_registry.get(key)
    if ds is None or (ds.permission and not user.has_perm(ds.permission)):
        raise QueryError(_("数据集不存在或无权使用：%(k)s") % {"k": key})
    return ds


@dataclass
class Result:
    columns: list[dict[str, Any]]  # {"key", "label", "type": "dimension"|"measure", "fmt"}
    rows: list[dict[str, Any]]  # raw values (money in fen, pct as Decimal fraction)
    truncated: bool = False
    total: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.rows


def _filter_field(qs: QuerySet[Any], dim: Dimension) -> Any:
    """The model field (or annotation output field) a filter on ``dim`` compares against; None
    when it cannot be told (a transform such as ``__year``, a JSON key)."""
    if not isinstance(dim.expr, str):
        annotation = qs.query.annotations.get(f"_f_{dim.key}")
        try:
            return annotation.output_field if annotation is not None else None
        except FieldError:
            return None
    model: Any = qs.model
    found = None
    for part in dim.expr.split("__"):
        if model is None:
            return None
        try:
            found = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None
        model = found.related_model if found.is_relation else None
    return found


def _clean_scalar(dim: Dimension, field: Any, value: Any) -> Any:
    """``value`` as the field's Python type; a wrong type is the user's error (QueryError), not
    a database error: ``owner = "abc"``, a date given as a number, an object."""
    invalid = QueryError(
        _("筛选条件“%(dim)s”的值无效：%(v)s") % {"dim": dim.label, "v": str(value)[:50]}
    )
    if isinstance(value, dict | list | tuple):
        raise invalid
    if isinstance(value, str) and "\x00" in value:
        raise invalid
    if value is None or field is None:
        return value
    target = getattr(field, "target_field", None) if field.is_relation else field
    try:
        return (target or field).to_python(value)
    except (ValidationError, TypeError, ValueError, ArithmeticError):
        raise invalid from None


def _filter_q(dim: Dimension, op: str, value: Any, field: Any = None) -> Q:
    if op not in FILTER_OPS:
        raise QueryError(_("不支持的筛选条件：%(op)s") % {"op": op})
    expr = dim.expr if isinstance(dim.expr, str) else None
    if expr is None:  # computed dimension: filter on its annotation
        expr = f"_f_{dim.key}"
    if dim.kind in ("date", "month") and op in ("gte", "lte", "eq") and isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value)
        except ValueError:
            raise QueryError(_("日期格式应为 YYYY-MM-DD：%(v)s") % {"v": value}) from None
    if op == "isnull":
        return Q(**{f"{expr}__isnull": bool(value)})
    if op == "in":
        if not isinstance(value, list | tuple):
            raise QueryError(_("“在…之中”条件需要一个列表。"))
        return Q(**{f"{expr}__in": [_clean_scalar(dim, field, v) for v in value]})
    if op == "contains":
        # a substring, whatever the column's type
        return Q(**{f"{expr}__icontains": str(_clean_scalar(dim, None, value))})
    value = _clean_scalar(dim, field, value)
    if op == "eq":
        return Q(**{expr: value})
    if op == "ne":
        return ~Q(**{expr: value})
    return Q(**{f"{expr}__{op}": value})


def _check_keys(
    dim_keys: list[Any],
    measure_keys: list[Any],
    dims_allowed: Mapping[str, Dimension],
    measures_allowed: Mapping[str, Measure],
) -> None:
    if not all(isinstance(k, str) for k in dim_keys + measure_keys):
        raise QueryError(_("维度和指标须为字段名。"))
    if not measure_keys:
        raise QueryError(_("请至少选择一个指标。"))
    for key in dim_keys:
        if key not in dims_allowed:
            raise QueryError(_("维度不存在或无权查看：%(k)s") % {"k": key})
    for key in measure_keys:
        if key not in measures_allowed:
            raise QueryError(_("指标不存在：%(k)s") % {"k": key})
    if len(set(dim_keys)) != len(dim_keys) or len(dim_keys) > 3:
        raise QueryError(_("最多选择 3 个不重复的维度。"))


def _apply_filters(qs: Any, filters: Any, dims_allowed: Mapping[str, Dimension]) -> Any:
    """Computed dimensions used in filters are annotated first."""
    if not isinstance(filters, list | tuple) or not all(isinstance(f, Mapping) for f in filters):
        raise QueryError(_("筛选条件格式不正确。"))
    for f in filters:
        key = f.get("dimension")
        if not isinstance(key, str) or key not in dims_allowed:
            raise QueryError(_("筛选字段不存在或无权查看：%(k)s") % {"k": key})
        dim = dims_allowed[key]
        if not isinstance(dim.expr, str):
            qs = qs.annotate(**{f"_f_{dim.key}": dim.expression()})
        field = _filter_field(qs, dim)
        qs = qs.filter(_filter_q(dim, str(f.get("op", "eq")), f.get("value"), field))
    return qs


def _aggregates(measure_keys: list[str], measures_allowed: Mapping[str, Measure]) -> dict[str, Any]:
    """Every needed measure incl. the parts of ratios."""
    needed: list[str] = []
    for key in measure_keys:
        m = measures_allowed[key]
        for part in m.ratio_of or (key,):
            if part not in needed:
                needed.append(part)
    aggregates = {}
    for key in needed:
        part_measure = measures_allowed.get(key)
        if part_measure is None or part_measure.aggregate is None:
            raise QueryError(_("指标定义错误：%(k)s") % {"k": key})
        aggregates[f"m_{key}"] = part_measure.aggregate()
    return aggregates


def _limit(spec: Mapping[str, Any]) -> int:
    try:
        limit = min(int(spec.get("limit") or MAX_ROWS), MAX_ROWS)
    except (TypeError, ValueError):
        raise QueryError(_("行数上限须为正整数。")) from None
    if limit < 1:
        raise QueryError(_("行数上限须为正整数。"))
    return limit


def _grouped_rows(
    qs: Any,
    spec: Mapping[str, Any],
    dim_keys: list[str],
    measure_keys: list[str],
    dims_allowed: Mapping[str, Dimension],
    measures_allowed: Mapping[str, Measure],
    aggregates: dict[str, Any],
    limit: int,
) -> list[dict[str, Any]]:
    annotations = {f"d_{k}": dims_allowed[k].expression() for k in dim_keys}
    grouped = qs.annotate(**annotations).values(*annotations).annotate(**aggregates)
    order = str(spec.get("order") or "")
    desc = order.startswith("-")
    order_key = order.lstrip("-")
    if order_key in measure_keys and not measures_allowed[order_key].ratio_of:
        grouped = grouped.order_by(f"{'-' if desc else ''}m_{order_key}")
    else:
        grouped = grouped.order_by(*annotations)
    return list(grouped[: limit + 1])


def _columns(
    dim_keys: list[str],
    measure_keys: list[str],
    dims_allowed: Mapping[str, Dimension],
    measures_allowed: Mapping[str, Measure],
) -> list[dict[str, Any]]:
    return [
        {
            "key": k,
            "label": str(dims_allowed[k].label),
            "type": "dimension",
            "fmt": dims_allowed[k].kind,
        }
        for k in dim_keys
    ] + [
        {
            "key": k,
            "label": str(measures_allowed[k].label),
            "type": "measure",
            "fmt": measures_allowed[k].fmt,
        }
        for k in measure_keys
    ]


def run_query(user: Any, spec: Mapping[str, Any]) -> Result:
    """Run a report spec for ``user`` (scoped by the dataset's base queryset)."""
    ds = get_dataset(str(spec.get("dataset", "")), user)
    dims_allowed = ds.dims_for(user)
    measures_allowed = ds.measure_map()
    dim_keys = list(spec.get("dimensions") or [])
    measure_keys = list(spec.get("measures") or [])
    _check_keys(dim_keys, measure_keys, dims_allowed, measures_allowed)

    qs = _apply_filters(ds.base(user), spec.get("filters") or [], dims_allowed)
    aggregates = _aggregates(measure_keys, measures_allowed)
    limit = _limit(spec)
    if dim_keys:
        raw = _grouped_rows(
            qs, spec, dim_keys, measure_keys, dims_allowed, measures_allowed, aggregates, limit
        )
    else:
        raw = [qs.aggregate(**aggregates)]
    truncated = len(raw) > limit
    rows = []
    for r in raw[:limit]:
        row: dict[str, Any] = {}
        for k in dim_keys:
            value = r[f"d_{k}"]
            row[k] = value
            if dims_allowed[k].choices is not None:
                row[f"{k}__label"] = dims_allowed[k].label_for(value)
        for key in measure_keys:
            row[key] = _measure_value(measures_allowed, key, r)
        rows.append(row)
    if dim_keys and any(measures_allowed[k].ratio_of for k in measure_keys):
        order = str(spec.get("order") or "")
        if order.lstrip("-") in measure_keys:
            rows.sort(key=lambda x: x[order.lstrip("-")] or 0, reverse=order.startswith("-"))
    columns = _columns(dim_keys, measure_keys, dims_allowed, measures_allowed)
    return Result(columns=columns, rows=rows, truncated=truncated)


def _measure_value(measures: Mapping[str, Measure], key: str, row: Mapping[str, Any]) -> Any:
    m = measures[key]
    if m.ratio_of:
        num = _num(row.get(f"m_{m.ratio_of[0]}"))
        den = _num(row.get(f"m_{m.ratio_of[1]}"))
        if not den:
            return None
        return (Decimal(num) / Decimal(den)).quantize(Decimal("0.0001"))
    return _num(row.get(f"m_{key}"))


def _num(value: Any) -> Any:
    """Aggregates of MoneyField come back as Money; counts as int; None → 0."""
    if value is None:
        return 0
    fen = getattr(value, "fen", None)
    if fen is not None:
        return int(fen)
    return value


def display_value(column: Mapping[str, Any], row: Mapping[str, Any]) -> str:
    """Human text of one cell (tables, PDF): money in 元 with separators, pct with %."""
    key = column["key"]
    if column["type"] == "dimension":
        value = row.get(f"{key}__label", row.get(key))
        if isinstance(value, dt.datetime | dt.date):
            return value.strftime("%Y-%m") if column["fmt"] == "month" else value.isoformat()
        return "" if value is None else str(value)
    value = row.get(key)
    if value is None:
        return "—"
    fmt = column["fmt"]
    if fmt == "money":
        return format_fen(int(value))
    if fmt == "pct":
        return f"{Decimal(value) * 100:.2f}%"
    return f"{value:,}" if isinstance(value, int) else str(value)
