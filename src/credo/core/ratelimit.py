"""Per-client rate limits: fixed-window counters in the Django cache.

The cache is Redis when ``REDIS_URL`` is set, so every web process shares the counters; without
it each process counts on its own (a limit then applies per process). Clients are told apart by
``credo.core.middleware.client_ip`` — the same address axes and the audit log see.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.core.middleware import client_ip


@dataclass(frozen=True)
class Rate:
    limit: int
    seconds: int


def _key(bucket: str, ident: str) -> str:
    return f"credo:rl:{bucket}:{ident}"


def rate_hit(bucket: str, ident: str, rate: Rate) -> int:
    """Count one hit of ``ident`` in ``bucket``; returns the count in the current window. The
    window opens with the first hit (``add`` sets the expiry, ``incr`` keeps it), so a burst
    cannot straddle two clock windows to get twice the rate."""
    key = _key(bucket, ident)
    if cache.add(key, 1, timeout=rate.seconds):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=rate.seconds)
        return 1


def rate_count(bucket: str, ident: str) -> int:
    """Hits of ``ident`` in the current window, without counting one."""
    return int(cache.get(_key(bucket, ident)) or 0)


def rate_limited(bucket: str, ident: str, rate: Rate) -> bool:
    """Count one hit; True when it is over the limit."""
    return rate_hit(bucket, ident, rate) > rate.limit


def audit_throttled(request: HttpRequest, *, bucket: str, rate: Rate) -> None:
    """Audit a throttled client once per window: a flood must not become a flood of audit rows."""
    ip = client_ip(request) or "unknown"
    if cache.add(_key(f"{bucket}:audited", ip), 1, timeout=rate.seconds):
        audit_record(
            action="security.rate_limited",
            object_type="security.client",
            object_repr=ip,
            metadata={
                "bucket": bucket,
                "ip": ip,
                "path": request.path[:200],
                "limit": rate.limit,
                "window_seconds": rate.seconds,
            },
        )


def throttled_response(request: HttpRequest, rate: Rate) -> HttpResponse:
    """429 with ``Retry-After``: the API's error body under /api/, a page elsewhere."""
    message = _("请求过于频繁，请稍后再试")
    response: HttpResponse
    if request.path.startswith("/api/"):
        response = JsonResponse(
            {
                "code": "throttled",
                "message": message,
                "details": {"retry_after_seconds": rate.seconds},
            },
            status=429,
            json_dumps_params={"ensure_ascii": False},
        )
    else:
        response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(rate.seconds)
    return response


def _public_rules() -> tuple[tuple[str, str, Rate], ...]:
    """(path prefix, bucket, rate) for everything reachable without logging in."""
    public = Rate(settings.CREDO_PUBLIC_RATE_PER_MINUTE, 60)
    webhook = Rate(settings.CREDO_WEBHOOK_RATE_PER_MINUTE, 60)
    return (
        ("/forms/", "public", public),  # 官网线索表单 (credo.leads.public_urls)
        ("/portal/", "public", public),  # 客户上传门户与在线申请邀请
        ("/api/v1/contracts/esign/callback", "webhook", webhook),  # 电子签约回调
        # 企业微信/钉钉应用: card actions, the platform's event callback, QR/OAuth login
        ("/imapps/card/", "public", public),
        ("/imapps/wecom/event/", "webhook", webhook),
        ("/imapps/wecom/login/", "public", public),
        ("/imapps/wecom/callback/", "public", public),
        ("/imapps/dingtalk/login/", "public", public),
        ("/imapps/dingtalk/callback/", "public", public),
    )


class PublicRateLimitMiddleware:
    """Per-client-address limit on the login-free pages and webhooks (login itself is limited
    by failed attempts per address in the accounts app's login view)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for prefix, bucket, rate in _public_rules():
            if request.path.startswith(prefix):
                if rate_limited(bucket, client_ip(request) or "unknown", rate):
                    audit_throttled(request, bucket=bucket, rate=rate)
                    return throttled_response(request, rate)
                break
        return self.get_response(request)
