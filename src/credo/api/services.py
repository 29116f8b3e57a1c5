"""Writes for API tokens and idempotency keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.api.errors import ApiError
from credo.api.models import SCOPES, ApiToken, IdempotencyKey
from credo.core.audit.services import audit_record

TOKEN_PREFIX = "credo"
# Writing last_used_at on every call would turn each read into a write; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class TokenError(ApiError):
    def __init__(self, message: str, code: str = "token_invalid") -> None:
        super().__init__(code, message, status=422)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _token_audit_view(token: ApiToken) -> dict[str, Any]:
    return {
        "name": token.name,
        "prefix": token.prefix,
        "scopes": list(token.scopes),
        "expires_at": token.expires_at.isoformat() if token.expires_at else None,
        "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
    }


class TokenSuspended(ApiError):
    """A genuine token whose user may not act now (locked out by axes, or deactivated)."""

    def __init__(self, code: str, message: str, token: ApiToken) -> None:
        super().__init__(code, message, status=401, details={"token_prefix": token.prefix})


def token_max_days() -> int:
    return int(settings.CREDO_API_TOKEN_MAX_DAYS)


def token_create(
    *,
    user: Any,
    name: str,
    scopes: list[str],
    expires_in_days: int | None,
    actor: Any,
    via_token: ApiToken | None = None,
) -> tuple[ApiToken, str]:
    """Create a token; returns it and the plaintext ``credo_<prefix>_<secret>``, which is never
    stored and can be shown only this once.

    Only an interactive session may create tokens (``via_token`` is the token a request was
    authenticated by): a token that could mint tokens could mint a broader, longer-lived one
    that outlives its own revocation. The refusal is audited. Every token expires, at most
    ``CREDO_API_TOKEN_MAX_DAYS`` after its creation.
    """
    if via_token is not None:
        audit_record(
            action="api.token_create_refused",
            actor=actor,
            obj=via_token,
            metadata={
                "user_id": user.pk,
                "reason": "token_authenticated",
                "requested_scopes": [str(s) for s in scopes][:10],
                "requested_expires_in_days": expires_in_days,
            },
        )
        raise ApiError(
            "token_cannot_create_tokens",
            _(
                "不能使用 API 令牌创建新令牌。请登录系统（已启用两步验证的须完成验证）后在“API 令牌”页面创建。"
            ),
            status=403,
            details={"token_prefix": via_token.prefix},
        )
    max_days = token_max_days()
    name = (name or "").strip()
    if not name:
        raise TokenError(_("请填写令牌名称"))
    if len(name) > 100:
        raise TokenError(_("令牌名称不能超过 100 个字符"))
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise TokenError(_("未知的权限范围：%(s)s") % {"s": ", ".join(unknown)})
    if not scopes:
        raise TokenError(_("至少选择一个权限范围"))
    if expires_in_days is None:
        raise TokenError(
            _("令牌必须设置有效期，最长 %(n)s 天。") % {"n": max_days}, code="token_expiry_required"
        )
    if not 1 <= expires_in_days <= max_days:
        raise TokenError(
            _("令牌有效期必须在 1 到 %(n)s 天之间。") % {"n": max_days},
            code="token_expiry_too_long",
        )
    ordered = [s for s in SCOPES if s in scopes]
    now = timezone.now()
    for _attempt in range(5):
        prefix = secrets.token_hex(4)
        secret = secrets.token_urlsafe(32)
        try:
            with transaction.atomic():
                token = ApiToken.objects.create(
                    user=user,
                    name=name,
                    prefix=prefix,
                    token_hash=hash_secret(secret),
                    scopes=ordered,
                    created_at=now,
                    expires_at=now + timedelta(days=expires_in_days),
                )
                audit_record(
                    action="api.token_create",
                    actor=actor,
                    obj=token,
                    changes={
                        k: {"before": None, "after": v} for k, v in _token_audit_view(token).items()
                    },
                    metadata={"user_id": user.pk},
                )
        except IntegrityError:  # prefix collision (1 in 4 billion): draw again
            continue
        return token, f"{TOKEN_PREFIX}_{prefix}_{secret}"
    raise RuntimeError("could not allocate a unique token prefix")


def token_revoke(*, token: ApiToken, actor: Any) -> ApiToken:
    with transaction.atomic():
        token = ApiToken.objects.select_for_update().get(pk=token.pk)
        if token.revoked_at is not None:
            return token
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            action="api.token_revoke",
            actor=actor,
            obj=token,
            changes={"revoked_at": {"before": None, "after": token.revoked_at.isoformat()}},
            metadata={"user_id": token.user_id},
        )
    return token


def _refuse_suspended(token: ApiToken, code: str, message: str) -> TokenSuspended:
    """Audit a suspended token's use once per token and reason per minute (a script retrying
    every second must not fill the audit log), and return the error to raise."""
    if cache.add(f"credo:token_suspended:{token.pk}:{code}", 1, timeout=60):
        audit_record(
            action="api.token_suspended",
            actor=token.user,
            obj=token,
            metadata={"user_id": token.user_id, "reason": code},
        )
    return TokenSuspended(code, message, token)


def token_authenticate(raw: str, request: HttpRequest | None = None) -> ApiToken | None:
    """The active token for ``credo_<prefix>_<secret>``, else None (unknown, forged, revoked,
    expired). A genuine token of a user who is deactivated, or locked out by too many failed
    logins (until unlocked), raises ``TokenSuspended``: the token is suspended, not revoked."""
    parts = (raw or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) != 8 or not parts[2]:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.token_hash, hash_secret(parts[2])):
        return None
    if not token.is_active:
        return None
    if not token.user.is_active:
        raise _refuse_suspended(token, "account_inactive", _("令牌所属用户已停用，令牌暂停使用。"))
    if request is not None:
        from credo.accounts.lockout import user_locked_out

        if user_locked_out(token.user, request):
            raise _refuse_suspended(
                token,
                "account_locked",
                _("令牌所属用户因登录失败次数过多已被临时锁定，解锁前令牌暂停使用。"),
            )
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def idempotency_keys_purge(*, now: Any = None) -> int:
    """Delete idempotency keys older than API_IDEMPOTENCY_TTL_HOURS; returns how many."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.API_IDEMPOTENCY_TTL_HOURS)
    deleted, _rows = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
