"""Signed values: the OAuth ``state`` and the approval card links (HMAC via Django signing,
with expiry; card links are also single use, see ``services.card_link_use``)."""

from __future__ import annotations

import secrets
from typing import Any

from django.core import signing

STATE_SALT = "credo.imapps.state"
LINK_SALT = "credo.imapps.card-link"
STATE_MAX_AGE = 600
LINK_MAX_AGE = 3 * 24 * 3600


def state_make(*, platform: str, next_url: str) -> str:
    return signing.dumps({"p": platform, "n": next_url, "r": secrets.token_hex(8)}, salt=STATE_SALT)


def state_read(value: str, *, platform: str) -> dict[str, Any] | None:
    try:
        data = signing.loads(value or "", salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("p") != platform:
        return None
    return data


def link_make(*, platform: str, task_id: int, user_id: int, action: str) -> str:
    return signing.dumps(
        {"p": platform, "t": task_id, "u": user_id, "a": action, "n": secrets.token_hex(12)},
        salt=LINK_SALT,
        compress=True,
    )


class LinkInvalid(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def link_read(value: str, *, max_age: int | None = None) -> dict[str, Any]:
    age = LINK_MAX_AGE if max_age is None else max_age
    try:
        data = signing.loads(value or "", salt=LINK_SALT, max_age=age)
    except signing.SignatureExpired as exc:
        raise LinkInvalid("expired") from exc
    except signing.BadSignature as exc:
        raise LinkInvalid("bad_signature") from exc
    if not isinstance(data, dict) or data.get("a") not in ("approve", "reject"):
        raise LinkInvalid("bad_signature")
    return data
