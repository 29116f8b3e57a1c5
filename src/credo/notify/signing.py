"""Request signatures of the gateways (pure functions, known-answer tested)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk robot "加签": base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), then
    URL-encoded for the ``sign`` query parameter (open.dingtalk.com, 自定义机器人安全设置)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def dingtalk_url(webhook_url: str, secret: str, timestamp_ms: int) -> str:
    """The webhook URL with ``timestamp`` and ``sign`` appended (when a secret is set)."""
    if not secret:
        return webhook_url
    sep = "&" if "?" in webhook_url else "?"
    return f"{webhook_url}{sep}timestamp={timestamp_ms}&sign={dingtalk_sign(secret, timestamp_ms)}"


def sms_signature(secret: str, payload: str) -> str:
    """Hex HMAC-SHA256 of the string to sign (by default app_key + timestamp + nonce + body)."""
    return hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
