"""``@idempotent`` for POST operations that honour the ``Idempotency-Key`` header.

The key row is inserted first, in the same transaction as the operation's effect:
* same key, same request → the stored response is replayed, the operation does not run again;
* same key, different request → 422 ``idempotency_conflict``;
* two concurrent requests with one key → the second INSERT meets the first one's uncommitted
  key row; on PostgreSQL it waits at most ``IN_FLIGHT_WAIT`` for it, then answers 409
  ``idempotency_in_progress`` (retry later, nothing was done); if the first commits within that
  time the second gets IntegrityError and replays the first one's response.
The operation returns ``Status(code, data)``, ``(code, data)`` or ``data`` where data is a Schema
instance or a JSON-serialisable dict already in the response shape: the decorator answers with
the stored JSON itself, so the first response and every replay are byte-identical.

A failing operation leaves no key, so the client may retry:
* a refusal (a 4xx answer: ``ApiError``, ``HttpError``, ``Http404``, ``PermissionDenied``)
  commits what the operation left behind, exactly as the same request without a key would: the
  services roll their own effects back and audit the refusal afterwards (e.g.
  ``approval.refused`` for a self-approval), and that audit row must survive. Only the key row is
  removed.
* any other exception rolls everything back, the key included.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
import json
from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.responses import NinjaJSONEncoder, Status
from pydantic import BaseModel

from credo.api.errors import ApiError
from credo.api.models import IdempotencyKey

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 200
IN_FLIGHT_WAIT = "200ms"


def _request_hash(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
    digest.update(request.body or b"")
    return digest.hexdigest()


def _jsonable(data: Any) -> Any:
    if isinstance(data, BaseModel):
        return data.model_dump(mode="json")
    return json.loads(json.dumps(data, cls=NinjaJSONEncoder))


def _unpack(result: Any) -> tuple[int, Any]:
    if isinstance(result, Status):
        return result.status_code, result.value
    if isinstance(result, tuple):
        return int(result[0]), result[1]
    return 200, result


def _json_response(status: int, body: Any) -> HttpResponse:
    return HttpResponse(
        json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )


def _replay(row: IdempotencyKey, request_hash: str) -> HttpResponse:
    if row.request_hash != request_hash:
        raise ApiError(
            "idempotency_conflict",
            _("该幂等键已用于另一个不同的请求"),
            status=422,
            details={"idempotency_key": row.key},
        )
    response = _json_response(row.response_status or 200, row.response_body)
    response["Idempotent-Replayed"] = "true"
    return response


def _insert_key(user: Any, key: str, request: HttpRequest, request_hash: str) -> IdempotencyKey:
    """Insert the key row; on PostgreSQL wait only briefly for a concurrent request holding the
    same key (lock_timeout applies to waiting on its transaction), then restore the default so
    the operation's own row locks wait normally."""
    postgres = connection.vendor == "postgresql"
    if postgres:
        with connection.cursor() as cur:
            cur.execute(f"SET LOCAL lock_timeout = '{IN_FLIGHT_WAIT}'")
    row = IdempotencyKey.objects.create(
        user=user,
        key=key,
        method=request.method or "",
        path=request.path[:500],
        request_hash=request_hash,
    )
    if postgres:
        with connection.cursor() as cur:
            cur.execute("SET LOCAL lock_timeout TO DEFAULT")
    return row


def _is_refusal(exc: BaseException) -> bool:
    """A 4xx answer: the operation refused the request (nothing of its effect remains)."""
    if isinstance(exc, ApiError):
        return exc.status < 500
    if isinstance(exc, HttpError):
        return exc.status_code < 500
    return isinstance(exc, Http404 | PermissionDenied)


def _forget_key(row: IdempotencyKey) -> None:
    """Remove the key row of a refused request; the transaction then commits the refusal's own
    audit rows. If the operation left the transaction unusable, roll everything back instead."""
    try:
        with transaction.atomic():
            row.delete()
    except DatabaseError:
        transaction.set_rollback(True)


def idempotent(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return func(request, *args, **kwargs)
        if len(key) > MAX_KEY_LENGTH:
            raise ApiError(
                "validation_error",
                _("请求参数校验失败"),
                status=422,
                details={f"header.{HEADER}": [_("幂等键不能超过 200 个字符")]},
            )
        user: Any = request.user
        request_hash = _request_hash(request)
        existing = IdempotencyKey.objects.filter(user=user, key=key).first()
        if existing is not None:
            return _replay(existing, request_hash)
        refused: Exception | None = None
        try:
            with transaction.atomic():
                row = _insert_key(user, key, request, request_hash)
                try:
                    status, data = _unpack(func(request, *args, **kwargs))
                except Exception as exc:
                    if not _is_refusal(exc):
                        raise
                    refused = exc
                    _forget_key(row)
                else:
                    row.response_status = status
                    row.response_body = _jsonable(data)
                    row.save(update_fields=["response_status", "response_body"])
                    # Serve the body as stored: PostgreSQL's JSONB reorders keys, and a replay
                    # must be byte-identical to the first answer.
                    row.refresh_from_db(fields=["response_body"])
        except OperationalError as exc:
            if getattr(getattr(exc, "__cause__", None), "sqlstate", None) != "55P03":
                raise
            raise ApiError(
                "idempotency_in_progress",
                _("相同幂等键的请求正在处理中，请稍后重试。"),
                status=409,
            ) from None
        except IntegrityError:
            existing = IdempotencyKey.objects.filter(user=user, key=key).first()
            if existing is None:
                raise
            return _replay(existing, request_hash)
        if refused is not None:
            raise refused
        return _json_response(status, row.response_body)

    # ninja resolves string annotations in the view's module: hand it the real signature.
    wrapper.__signature__ = inspect.signature(func, eval_str=True)  # type: ignore[attr-defined]
    return wrapper
