"""Request signing (pure: no database). The receiver recomputes the same HMAC.

``X-Credo-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{raw body}")>`` with
``X-Credo-Timestamp`` in unix seconds, so a captured request cannot be replayed later than the
receiver's tolerance window.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets as _secrets

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + _secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    timestamp: str,
    body: bytes,
    header: str,
    *,
    now: float,
    tolerance: int = 300,
) -> bool:
    """What a receiver does: the timestamp is recent and the signature matches."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, ts, body), header or "")


def request_headers(
    *, secret: str, event_type: str, delivery_id: int, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "Credo-Webhooks/1",
        "X-Credo-Event": event_type,
        "X-Credo-Delivery": str(delivery_id),
        "X-Credo-Timestamp": str(timestamp),
        "X-Credo-Signature": signature(secret, timestamp, body),
    }
