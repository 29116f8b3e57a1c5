"""Writes for API tokens and idempotency keys."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.api.errors import ApiError
from credo.api.models import SCOPES, ApiToken, IdempotencyKey
from credo.core.audit.services import audit_record

TOKEN_PREFIX = "credo"
MAX_EXPIRY_DAYS = 3650
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


def token_create(
    *,
    user: Any,
    name: str,
    scopes: list[str],
    expires_in_days: int | None,
    actor: Any,
) -> tuple[ApiToken, str]:
    """Create a token; returns it and the plaintext ``credo_<prefix>_<secret>``, which is never
    stored and can be shown only this once."""
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
    if expires_in_days is not None and not 1 <= expires_in_days <= MAX_EXPIRY_DAYS:
        raise TokenError(_("有效期必须在 1 到 %(n)s 天之间") % {"n": MAX_EXPIRY_DAYS})
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
                    expires_at=now + timedelta(days=expires_in_days) if expires_in_days else None,
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


def token_authenticate(raw: str) -> ApiToken | None:
    """The active token for ``credo_<prefix>_<secret>`` whose user is active, else None."""
    parts = (raw or "").strip().split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) != 8 or not parts[2]:
        return None
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.token_hash, hash_secret(parts[2])):
        return None
    if not token.is_active or not token.user.is_active:
        return None
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
