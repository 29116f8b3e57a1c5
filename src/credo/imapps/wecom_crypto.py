"""企业微信 callback URL security: ``msg_signature = sha1(sort(token, timestamp, nonce, encrypt))``
and AES-256-CBC message encryption with the EncodingAESKey (key = base64(aes_key + "="),
IV = the key's first 16 bytes, PKCS#7 padding to 32 bytes; plain = 16 random bytes +
4-byte big-endian length + message + receiveid)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import struct

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class CallbackError(Exception):
    pass


def signature(token: str, timestamp: str, nonce: str, encrypt: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, encrypt])).encode()).hexdigest()  # noqa: S324


def verify(token: str, timestamp: str, nonce: str, encrypt: str, msg_signature: str) -> bool:
    return hmac.compare_digest(signature(token, timestamp, nonce, encrypt), msg_signature or "")


def _key(aes_key: str) -> bytes:
    try:
        key = base64.b64decode(aes_key + "=")
    except ValueError as exc:
        raise CallbackError("bad EncodingAESKey") from exc
    if len(key) != 32:
        raise CallbackError("bad EncodingAESKey")
    return key


def decrypt(aes_key: str, encrypt: str, receive_id: str) -> str:
    key = _key(aes_key)
    try:
        raw = base64.b64decode(encrypt)
        dec = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        plain = dec.update(raw) + dec.finalize()
    except ValueError as exc:
        raise CallbackError("cannot decrypt") from exc
    pad = plain[-1] if plain else 0
    if not 1 <= pad <= 32:
        raise CallbackError("bad padding")
    plain = plain[:-pad]
    (length,) = struct.unpack(">I", plain[16:20])
    message, rid = plain[20 : 20 + length], plain[20 + length :]
    if receive_id and rid.decode() != receive_id:
        raise CallbackError("receiveid mismatch")
    return message.decode("utf-8")


def encrypt(aes_key: str, message: str, receive_id: str) -> str:
    key = _key(aes_key)
    body = message.encode("utf-8")
    plain = os.urandom(16) + struct.pack(">I", len(body)) + body + receive_id.encode()
    pad = 32 - len(plain) % 32
    plain += bytes([pad]) * pad
    enc = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()
