"""Reports API: datasets (only the fields the caller may see), ad-hoc queries, saved reports."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from ninja import Field, Router, Schema

from credo.api.auth import require_scope
from credo.api.errors import ApiError
from credo.api.schemas import ErrorOut
from credo.reports.datasets import MAX_ROWS, QueryError, Result, datasets_for, run_query
from credo.reports.models import SavedReport

router = Router(tags=["reports"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
}


class FilterIn(Schema):
    dimension: str
    op: str = "eq"
    value: Any = None


class QueryIn(Schema):
    dataset: str
    dimensions: list[str] = []
    measures: list[str]
    filters: list[FilterIn] = []
    order: str = ""
    limit: int | None = Field(None, ge=1, le=MAX_ROWS)


def _out(result: Result) -> dict[str, Any]:
    def plain(v: Any) -> Any:
        if hasattr(v, "isoformat"):
            return v.isoformat()
        if isinstance(v, int | float | str | bool) or v is None:
            return v
        return str(v)

    return {
        "columns": result.columns,
        "rows": [{k: plain(v) for k, v in row.items()} for row in result.rows],
        "truncated": result.truncated,
        "note": "money in fen (分), pct as a fraction",
    }


def _run(request: HttpRequest, spec: dict[str, Any]) -> dict[str, Any]:
    try:
        return _out(run_query(request.user, spec))
    except QueryError as exc:
        raise ApiError("invalid_query", exc.message, status=422) from None


@router.get(
    "/datasets",
    response={200: list[dict[str, Any]], **ERRORS},
    summary="可用数据集及字段（按字段权限过滤）",
)
def list_datasets(request: HttpRequest) -> list[dict[str, Any]]:
    require_scope(request, "read")
    return [
        {
            "key": ds.key,
            "label": str(ds.label),
            "dimensions": [
                {"key": d.key, "label": str(d.label), "kind": d.kind}
                for d in ds.dims_for(request.user).values()
            ],
            "measures": [{"key": m.key, "label": str(m.label), "fmt": m.fmt} for m in ds.measures],
        }
        for ds in datasets_for(request.user)
    ]


@router.post(
    "/query", response={200: dict[str, Any], **ERRORS}, summary="即席查询（在数据库中聚合）"
)
def query(request: HttpRequest, payload: QueryIn) -> dict[str, Any]:
    require_scope(request, "read")
    spec = payload.dict()
    spec["filters"] = [f for f in spec["filters"]]
    return _run(request, spec)


@router.get("/saved", response={200: list[dict[str, Any]], **ERRORS}, summary="我的与共享的报表")
def saved(request: HttpRequest) -> list[dict[str, Any]]:
    require_scope(request, "read")
    return [
        {"id": r.pk, "name": r.name, "dataset": r.dataset, "chart": r.chart, "shared": r.shared}
        for r in SavedReport.objects.filter(Q(owner=request.user) | Q(shared=True))
    ]


@router.get(
    "/saved/{report_id}/run", response={200: dict[str, Any], **ERRORS}, summary="运行已保存的报表"
)
def run_saved(request: HttpRequest, report_id: int) -> dict[str, Any]:
    require_scope(request, "read")
    report = SavedReport.objects.filter(
        Q(owner=request.user) | Q(shared=True), pk=report_id
    ).first()
    if report is None:
        raise ApiError("not_found", "报表不存在或无权访问", status=404)
    return _run(request, report.spec)
