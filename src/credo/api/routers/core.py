"""Core endpoints: health, the current user, users, and the caller's own API tokens."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status

from credo.accounts.models import User
from credo.api.auth import request_token, require_perm, require_scope
from credo.api.idempotency import idempotent
from credo.api.models import ApiToken
from credo.api.pagination import Page, PageQuery, paginate
from credo.api.schemas import (
    ErrorOut,
    HealthOut,
    MeOut,
    TokenCreatedOut,
    TokenIn,
    TokenOut,
    UserOut,
)
from credo.api.services import token_create, token_revoke
from credo.core.health import health_check

router = Router(tags=["core"])
ERRORS: dict[int, type[Schema]] = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}


class UserFilter(PageQuery):
    q: str = ""


class PageParams(PageQuery):
    pass


@router.get("/health", auth=None, response={200: HealthOut, 503: ErrorOut}, summary="健康检查")
def health(request: HttpRequest) -> Any:
    result = health_check()
    if not result.ok:
        return Status(
            503,
            {
                "code": "service_unavailable",
                "message": _("服务不可用：数据库无法连接"),
                "details": {"checks": result.checks},
            },
        )
    return {"status": "ok", "time": timezone.now(), "checks": result.checks}


@router.get("/me", response={200: MeOut, **ERRORS}, summary="当前用户")
def me(request: HttpRequest) -> dict[str, Any]:
    require_scope(request, "read")
    user = request.user
    return {
        "id": user.pk,
        "username": user.get_username(),
        "display_name": getattr(user, "display_name", "") or "",
        "roles": [{"code": r.code, "name": r.name} for r in user.roles.all()],  # type: ignore[union-attr]
        "data_scope": str(user.data_scope),  # type: ignore[union-attr]
        "org_unit": user.org_unit.name if getattr(user, "org_unit", None) else None,  # type: ignore[union-attr]
    }


@router.get("/users", response={200: Page[UserOut], **ERRORS}, summary="用户列表")
def users(request: HttpRequest, filters: Query[UserFilter]) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "accounts.manage_users")
    qs = User.objects.select_related("org_unit").order_by("username")
    if filters.q.strip():
        term = filters.q.strip()
        qs = qs.filter(
            Q(username__icontains=term)
            | Q(display_name__icontains=term)
            | Q(employee_no__icontains=term)
        )
    return paginate(qs, filters.page, filters.page_size, UserOut)


@router.get("/tokens", response={200: Page[TokenOut], **ERRORS}, summary="我的 API 令牌")
def tokens(request: HttpRequest, params: Query[PageParams]) -> dict[str, Any]:
    require_scope(request, "read")
    user: Any = request.user
    qs = ApiToken.objects.filter(user=user).order_by("-created_at", "-id")
    return paginate(qs, params.page, params.page_size, TokenOut)


@router.post(
    "/tokens",
    response={201: TokenCreatedOut, **ERRORS},
    summary="创建 API 令牌（支持 Idempotency-Key）",
)
@idempotent
def tokens_create(request: HttpRequest, payload: TokenIn) -> Status[TokenCreatedOut]:
    """Session only: a request authenticated by a token is refused (403, audited)."""
    token, plaintext = token_create(
        user=request.user,
        name=payload.name,
        scopes=payload.scopes,
        expires_in_days=payload.expires_in_days,
        actor=request.user,
        via_token=request_token(request),
    )
    data = TokenOut.from_orm(token).model_dump()
    return Status(201, TokenCreatedOut(**data, token=plaintext))


@router.delete(
    "/tokens/{token_id}", response={204: None, 404: ErrorOut, **ERRORS}, summary="吊销 API 令牌"
)
def tokens_revoke(request: HttpRequest, token_id: int) -> Status[None]:
    require_scope(request, "write")
    token = get_object_or_404(ApiToken, pk=token_id, user=request.user)
    token_revoke(token=token, actor=request.user)
    return Status(204, None)
