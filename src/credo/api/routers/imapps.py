"""API: 企业微信与钉钉 — sync runs (read) and starting a sync (admin)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema

from credo.api.auth import require_perm, require_scope
from credo.api.errors import ApiError
from credo.api.pagination import Page, PageQuery, paginate
from credo.api.schemas import ErrorOut
from credo.imapps.models import Platform, SyncRun

router = Router(tags=["imapps"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    422: ErrorOut,
}
PERM = "imapps.manage_imapps"


class SyncRunOut(Schema):
    id: int
    platform: str
    trigger: str
    status: str
    counts: dict[str, Any]
    error: str
    started_at: dt.datetime
    finished_at: dt.datetime | None


def run_out(run: SyncRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "platform": run.platform,
        "trigger": run.trigger,
        "status": run.status,
        "counts": run.counts,
        "error": run.error,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
    }


@router.get("/sync-runs", response={200: Page[SyncRunOut], **ERRORS}, summary="同步记录")
def list_runs(request: HttpRequest, filters: Query[PageQuery]) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, PERM)
    data = paginate(SyncRun.objects.all(), filters.page, filters.page_size)
    data["items"] = [run_out(r) for r in data["items"]]
    return data


@router.post("/{platform}/sync", response={200: SyncRunOut, **ERRORS}, summary="同步组织架构")
def start_sync(request: HttpRequest, platform: str) -> dict[str, Any]:
    require_scope(request, "write")
    require_perm(request, PERM)
    if platform not in Platform.values:
        raise ApiError("not_found", "未知的平台", status=404)
    from credo.imapps.services import sync_run

    return run_out(sync_run(platform=platform, actor=request.user, trigger="api"))
