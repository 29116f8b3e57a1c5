"""Per-request context (user, IP, request id) so services can audit without threading a request."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class RequestInfo:
    user: Any = None
    ip: str | None = None
    request_id: str = ""


_current: contextvars.ContextVar[RequestInfo] = contextvars.ContextVar(
    "credo_request_info",
    default=RequestInfo(),  # noqa: B039 (frozen dataclass, immutable)
)


def current_request_info() -> RequestInfo:
    return _current.get()


def set_request_info(info: RequestInfo) -> contextvars.Token[RequestInfo]:
    return _current.set(info)


def reset_request_info(token: contextvars.Token[RequestInfo]) -> None:
    _current.reset(token)


# A dict living for one request (set by RequestContextMiddleware): per-request memos of
# definitions several parts of a page read (custom field definitions …). None outside a request,
# so code called from tasks and tests always reads afresh.
_memo: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "credo_request_memo", default=None
)


def request_memo() -> dict[str, Any] | None:
    return _memo.get()


def set_request_memo(memo: dict[str, Any] | None) -> contextvars.Token[dict[str, Any] | None]:
    return _memo.set(memo)


def reset_request_memo(token: contextvars.Token[dict[str, Any] | None]) -> None:
    _memo.reset(token)


def memoized(key: str, compute: Callable[[], T]) -> T:
    """``compute()`` once per request under ``key`` (several parts of one page asking the same
    question); outside a request (tasks, tests, the shell) always afresh."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]  # type: ignore[no-any-return]


def forget(prefix: str) -> None:
    """Drop this request's memos under ``prefix`` (a write in the request changed them)."""
    memo = _memo.get()
    if memo is not None:
        for key in [k for k in memo if k.startswith(prefix)]:
            del memo[key]
