"""Field encryption (AES-256-GCM with key ids) and HMAC blind indexes.

Ciphertext format: ``v1:<kid>:<base64(nonce[12] + ciphertext + tag)>``. The key id travels
with the value, so several keys can be configured at once: the first key in
``CREDO_ENCRYPTION_KEYS`` encrypts, every listed key decrypts, and ``credo keys rotate``
re-encrypts old values with the first key. The associated data binds a ciphertext to its
field (``app.model.field``): a value copied into another column does not decrypt.

Blind index: ``HMAC-SHA256(index key, kind + ":" + normalized value)``, hex. Equal inputs of
the same kind (e.g. the same ID number on a customer and on a lead) give the same index, so
records can be found and de-duplicated by exact match without decrypting anything.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

VERSION = "v1"
KEY_VAR = "CREDO_ENCRYPTION_KEYS"
_KID_RE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class DecryptionError(Exception):
    """A stored value cannot be decrypted (unknown key id, wrong field, tampered data)."""


@dataclass(frozen=True)
class KeyRing:
    primary: str
    keys: dict[str, bytes]


def parse_keys(text: str) -> KeyRing:
    """Parse ``kid:base64key,kid2:base64key``; raises ImproperlyConfigured naming the variable."""
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for raw in (text or "").split(","):
        item = raw.strip()
        if not item:
            continue
        kid, sep, b64 = item.partition(":")
        if not sep or not _KID_RE.match(kid):
            raise ImproperlyConfigured(
                f"{KEY_VAR}: each entry must be 'kid:base64key' with a kid of 1-16 letters, "
                f"digits, '-' or '_' (got {kid[:20]!r})."
            )
        try:
            key = base64.b64decode(b64, validate=True)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(f"{KEY_VAR}: key {kid!r} is not valid base64.") from None
        if len(key) != 32:
            raise ImproperlyConfigured(
                f"{KEY_VAR}: key {kid!r} must decode to 32 bytes (AES-256), got {len(key)}."
            )
        if kid in keys:
            raise ImproperlyConfigured(f"{KEY_VAR}: key id {kid!r} is listed twice.")
        keys[kid] = key
        order.append(kid)
    if not order:
        raise ImproperlyConfigured(f"{KEY_VAR} is empty: configure at least one key.")
    return KeyRing(primary=order[0], keys=keys)


@cache
def _ring_for(text: str) -> KeyRing:
    return parse_keys(text)


def keyring() -> KeyRing:
    return _ring_for(settings.ENCRYPTION_KEYS)


def generate_key_entry(kid: str) -> str:
    if not _KID_RE.match(kid):
        raise ValueError("key id must be 1-16 letters, digits, '-' or '_'")
    return f"{kid}:{base64.b64encode(secrets.token_bytes(32)).decode()}"


def encrypt(plaintext: str, *, aad: str, ring: KeyRing | None = None) -> str:
    ring = ring or keyring()
    nonce = os.urandom(12)
    data = AESGCM(ring.keys[ring.primary]).encrypt(nonce, plaintext.encode(), aad.encode())
    return f"{VERSION}:{ring.primary}:{base64.b64encode(nonce + data).decode()}"


def key_id_of(token: str) -> str | None:
    parts = token.split(":", 2)
    if len(parts) != 3 or parts[0] != VERSION:
        return None
    return parts[1]


def decrypt(token: str, *, aad: str, ring: KeyRing | None = None) -> str:
    ring = ring or keyring()
    parts = token.split(":", 2)
    if len(parts) != 3 or parts[0] != VERSION:
        raise DecryptionError("not a Credo ciphertext")
    _, kid, b64 = parts
    key = ring.keys.get(kid)
    if key is None:
        raise DecryptionError(f"key id {kid!r} is not configured in {KEY_VAR}")
    try:
        raw = base64.b64decode(b64, validate=True)
        return AESGCM(key).decrypt(raw[:12], raw[12:], aad.encode()).decode()
    except (binascii.Error, ValueError, InvalidTag):
        raise DecryptionError(f"value does not decrypt with key {kid!r} for {aad}") from None


def _index_key() -> bytes:
    return hashlib.sha256(b"credo-blind-index:" + settings.BLIND_INDEX_KEY.encode()).digest()


def blind_index(value: str, *, kind: str) -> str:
    """Deterministic HMAC of a normalized value; '' for an empty value."""
    from credo.core.normalize import normalize

    normalized = normalize(kind, value)
    if not normalized:
        return ""
    message = f"{kind}:{normalized}".encode()
    return hmac.new(_index_key(), message, hashlib.sha256).hexdigest()
