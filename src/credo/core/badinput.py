"""Refuse malformed requests at the door, before any view or query sees them.

PostgreSQL text cannot hold NUL (0x00), and a lone UTF-16 surrogate cannot be encoded for it at
all: either one in a search box, a filter or a JSON field used to reach the database and end as
an HTTP 500. A multipart body without a (valid) boundary failed the same way inside the API.
This middleware answers such requests with 400 — the standard API error body
``{"code", "message", "details"}`` under ``/api/``, the 400 page elsewhere — so no view has to
remember the rule. Checked: the path, the headers (cookies and bearer tokens reach the database
too), every query parameter (names and values), form fields and uploaded file names, and every
string (keys too) of a JSON body.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParser, MultiPartParserError
from django.shortcuts import render
from django.utils.http import parse_header_parameters
from django.utils.translation import gettext as _

API_PREFIX = "/api/"

# A JSON text can only carry NUL or a surrogate as an escape (a raw control character is invalid
# JSON), so bodies without one of these escapes skip the full walk.
_SUSPICIOUS_JSON = re.compile(rb"\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})|\x00")


class BadInput(Exception):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


def bad_text(value: str) -> str | None:
    """Why ``value`` cannot be accepted as text, or None when it can."""
    if "\x00" in value:
        return _("不能包含空字符（NUL）")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _("包含无效的 Unicode 字符")
    return None


def _check(where: str, value: str) -> None:
    reason = bad_text(value)
    if reason is not None:
        raise BadInput(where, reason)


def _json_strings(value: Any, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield where, value
    elif isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if bad_text(key) is None else where
            yield path, key
            yield from _json_strings(item, path)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _json_strings(item, f"{where}.{index}")


def _is_json(content_type: str) -> bool:
    return content_type == "application/json" or content_type.endswith("+json")


def _body_fits_in_memory(request: HttpRequest) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return limit is None or length <= limit


def _check_lists(prefix: str, items: Iterable[tuple[str, list[str]]]) -> None:
    for key, values in items:
        _check(f"{prefix}.{key}" if bad_text(key) is None else prefix, key)
        for value in values:
            _check(f"{prefix}.{key}", value)


def _inspect_form(request: HttpRequest, content_type: str) -> None:
    broken = BadInput("body", _("multipart 请求体格式不正确（缺少或无效的 boundary）"))
    if content_type == "multipart/form-data":
        _type, params = parse_header_parameters(request.META.get("CONTENT_TYPE", ""))
        boundary = params.get("boundary", "")
        if not boundary or not MultiPartParser.boundary_re.match(boundary):
            raise broken
        if _body_fits_in_memory(request):
            # read (at most DATA_UPLOAD_MAX_MEMORY_SIZE) before parsing, so a view that
            # needs the raw body (a signed callback, the idempotency hash) still has it
            request.body  # noqa: B018
    try:
        form, files = request.POST, request.FILES
    except MultiPartParserError:
        raise broken from None
    _check_lists("form", form.lists())
    for key, uploads in files.lists():
        for upload in uploads:
            _check(f"form.{key}", upload.name or "")


def _inspect_json(request: HttpRequest) -> None:
    body = request.body
    if not _SUSPICIOUS_JSON.search(body):
        return
    try:
        data = json.loads(body)
    except ValueError:
        return  # not JSON at all: the view's parser answers that
    for where, text in _json_strings(data, "body"):
        _check(where, text)


def inspect(request: HttpRequest) -> None:
    """Raise :class:`BadInput` for the first unacceptable part of ``request``."""
    _check("path", request.path)
    for name, value in request.META.items():
        if name.startswith("HTTP_") and isinstance(value, str):
            _check(f"header.{name[5:].lower().replace('_', '-')}", value)
    _check_lists("query", request.GET.lists())
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    content_type = request.content_type or ""
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        _inspect_form(request, content_type)
    elif _is_json(content_type) and _body_fits_in_memory(request):
        _inspect_json(request)


def refuse(request: HttpRequest, problem: BadInput) -> HttpResponse:
    if request.path.startswith(API_PREFIX):
        body = {
            "code": "bad_request",
            "message": _("请求包含无效字符或格式不正确"),
            "details": {problem.where: [problem.message]},
        }
        return JsonResponse(body, status=400, json_dumps_params={"ensure_ascii": False})
    return render(request, "400.html", {"reason": problem.message}, status=400)


class BadInputMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            inspect(request)
        except BadInput as problem:
            return refuse(request, problem)
        return self.get_response(request)
