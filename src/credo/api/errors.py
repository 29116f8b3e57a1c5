"""One error body for every API failure: ``{"code", "message", "details"}``."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, ValidationError

logger = logging.getLogger("credo.api")

_STATUS_CODES: dict[int, tuple[str, str]] = {
    400: ("bad_request", "请求格式不正确"),
    401: ("unauthorized", "未认证，或令牌无效、已过期、已吊销"),
    403: ("forbidden", "没有权限执行此操作"),
    404: ("not_found", "资源不存在"),
    405: ("method_not_allowed", "不支持该请求方法"),
    409: ("conflict", "请求与当前状态冲突"),
    422: ("validation_error", "请求参数校验失败"),
    429: ("throttled", "请求过于频繁，请稍后再试"),
    500: ("server_error", "服务器内部错误"),
}


class BodyNotAnObject(ValueError):
    """A JSON request body that is a list, string, number or null where an object is expected.

    ninja reads a body schema from any value's attributes, so ``[null, null]`` used to pass as
    an object with every field defaulted; the API's parser refuses it and the refusal is
    reported as the 422 it is (a schema violation), not as unparsable JSON."""


class ApiError(Exception):
    """A domain error raised by an API handler or service, rendered as the error body."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int = 400,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.details = details or {}


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or {}}


def default_error(status: int) -> tuple[str, str]:
    code, message = _STATUS_CODES.get(status, ("error", "请求失败"))
    return code, _(message)


def validation_details(errors: list[dict[str, Any]]) -> dict[str, list[str]]:
    """ninja/pydantic errors → ``{"body.name": ["Field required"], ...}``."""
    out: dict[str, list[str]] = {}
    for err in errors:
        loc = ".".join(str(part) for part in err.get("loc", ()) if part is not None) or "__all__"
        out.setdefault(loc, []).append(str(err.get("msg", "")))
    return out


def install_error_handlers(api: NinjaAPI) -> None:
    def respond(
        request: HttpRequest, status: int, code: str, message: str, details: Any = None
    ) -> HttpResponse:
        return api.create_response(request, error_body(code, message, details), status=status)

    def on_api_error(request: HttpRequest, exc: Any) -> HttpResponse:
        return respond(request, exc.status, exc.code, exc.message, exc.details)

    def on_validation(request: HttpRequest, exc: Any) -> HttpResponse:
        code, message = default_error(422)
        return respond(request, 422, code, message, validation_details(exc.errors))

    def on_http_error(request: HttpRequest, exc: Any) -> HttpResponse:
        if isinstance(exc.__cause__, BodyNotAnObject):
            code, message = default_error(422)
            return respond(request, 422, code, message, {"body": [_("请求体必须是 JSON 对象")]})
        code, message = default_error(exc.status_code)
        if exc.status_code == 403 and "CSRF" in str(exc):
            code, message = "csrf_failed", _("CSRF 校验失败，请刷新页面后重试")
        return respond(request, exc.status_code, code, message)

    def on_auth_error(request: HttpRequest, exc: Any) -> HttpResponse:
        code, message = default_error(401)
        response = respond(request, 401, code, message)
        response["WWW-Authenticate"] = 'Bearer realm="credo"'
        return response

    def on_forbidden(request: HttpRequest, exc: Any) -> HttpResponse:
        code, message = default_error(403)
        return respond(request, 403, code, message)

    def on_404(request: HttpRequest, exc: Any) -> HttpResponse:
        code, message = default_error(404)
        return respond(request, 404, code, message)

    def on_malformed(request: HttpRequest, exc: Any) -> HttpResponse:
        # a multipart body without (or with a broken) boundary, a body cut short, too many
        # fields: the client's fault, never a 500
        logger.warning("API request %s %s malformed: %s", request.method, request.path, exc)
        code, message = default_error(400)
        return respond(request, 400, code, message)

    def on_exception(request: HttpRequest, exc: Any) -> HttpResponse:
        logger.exception("API request %s %s failed", request.method, request.path, exc_info=exc)
        code, message = default_error(500)
        return respond(request, 500, code, message)

    api.add_exception_handler(ApiError, on_api_error)
    api.add_exception_handler(ValidationError, on_validation)
    api.add_exception_handler(HttpError, on_http_error)
    api.add_exception_handler(AuthenticationError, on_auth_error)
    api.add_exception_handler(AuthorizationError, on_forbidden)
    api.add_exception_handler(PermissionDenied, on_forbidden)
    api.add_exception_handler(Http404, on_404)
    api.add_exception_handler(MultiPartParserError, on_malformed)
    api.add_exception_handler(UnreadablePostError, on_malformed)
    api.add_exception_handler(SuspiciousOperation, on_malformed)
    api.add_exception_handler(Exception, on_exception)
