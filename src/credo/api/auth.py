"""API authentication: hashed bearer tokens for machines, the Django session for the browser."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.security import APIKeyCookie, HttpBearer

from credo.api.errors import ApiError
from credo.api.models import ApiToken
from credo.api.services import token_authenticate


class BearerTokenAuth(HttpBearer):
    """``Authorization: Bearer credo_<prefix>_<secret>``. Unknown, forged, revoked or expired
    tokens authenticate nobody (→ 401 ``unauthorized``); a token whose user is deactivated or
    locked out is suspended (→ 401 ``account_inactive`` / ``account_locked``, audited)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        api_token = token_authenticate(token, request)
        if api_token is None:
            return None
        request.api_token = api_token  # type: ignore[attr-defined]
        request.user = api_token.user
        return api_token.user


class SessionAuth(APIKeyCookie):
    """The logged-in browser session. CSRF is checked only when a session cookie is sent, so a
    token client without cookies gets 401 (not a CSRF 403) when its token is bad."""

    param_name: str = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        if not request.COOKIES.get(self.param_name):
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if not (key and user is not None and user.is_authenticated and user.is_active):
            return None
        if _second_factor_missing(user):
            return None
        return user


def _second_factor_missing(user: Any) -> bool:
    """A password-only session may not use the API when 2FA applies to the user (the OTP
    middleware exempts /api/ from its redirect, so the check lives here)."""
    if not hasattr(user, "is_verified") or user.is_verified():
        return False
    from django_otp import user_has_device

    return bool(settings.CREDO_REQUIRE_2FA or user_has_device(user))


bearer_auth = BearerTokenAuth()
session_auth = SessionAuth()
default_auth = [bearer_auth, session_auth]


def request_token(request: HttpRequest) -> ApiToken | None:
    return getattr(request, "api_token", None)


def require_scope(request: HttpRequest, scope: str) -> None:
    """Token calls must carry ``scope``; session calls are limited by permissions only."""
    token = request_token(request)
    if token is not None and scope not in token.scopes:
        raise ApiError(
            "insufficient_scope",
            _("令牌缺少权限范围：%(scope)s") % {"scope": scope},
            status=403,
            details={"required_scope": scope, "token_scopes": list(token.scopes)},
        )


def require_perm(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise ApiError(
            "forbidden", _("没有权限执行此操作"), status=403, details={"permission": perm}
        )
