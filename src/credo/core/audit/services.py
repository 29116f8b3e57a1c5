"""Writing to and verifying the audit log.

Every row stores ``hash = HMAC(key, prev_hash || canonical(row))``. Editing a row changes its
hash; deleting or reordering rows breaks either the ``seq`` sequence or the ``prev_hash`` link.
Writers serialise on ``AuditChainHead`` (one locked row) so concurrent writers cannot fork the
chain.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from credo.core.audit.models import AuditChainHead, AuditEntry
from credo.core.context import current_request_info

GENESIS = "0" * 64
SENSITIVE_MARK = "***"


def _key() -> bytes:
    return hashlib.sha256(b"credo-audit:" + settings.SECRET_KEY.encode()).digest()


def _canonical(entry: AuditEntry) -> bytes:
    payload = {
        "seq": entry.seq,
        "created_at": entry.created_at.isoformat(),
        "actor_id": entry.actor_id,
        "actor_name": entry.actor_name,
        "action": entry.action,
        "object_type": entry.object_type,
        "object_id": entry.object_id,
        "object_repr": entry.object_repr,
        "changes": entry.changes,
        "metadata": entry.metadata,
        "ip": entry.ip,
        "request_id": entry.request_id,
        "prev_hash": entry.prev_hash,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()


def compute_hash(entry: AuditEntry) -> str:
    return hmac.new(_key(), _canonical(entry), hashlib.sha256).hexdigest()


def diff_fields(
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    *,
    sensitive: Iterable[str] = (),
) -> dict[str, dict[str, Any]]:
    """``{field: {"before": x, "after": y}}`` for changed fields; sensitive values are masked."""
    before = before or {}
    after = after or {}
    hidden = set(sensitive)
    out: dict[str, dict[str, Any]] = {}
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if name in hidden:
            out[name] = {"before": SENSITIVE_MARK, "after": SENSITIVE_MARK}
        else:
            out[name] = {"before": _jsonable(old), "after": _jsonable(new)}
    return out


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def audit_record(
    *,
    action: str,
    actor: Any = None,
    obj: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    object_repr: str = "",
    changes: Mapping[str, Any] | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry. Runs inside the caller's transaction, so a rolled-back change leaves
    no audit row and a committed change always has one.

    ``actor`` defaults to the user of the current request (see ``credo.core.context``).
    """
    info = current_request_info()
    if actor is None:
        actor = info.user
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        object_repr = object_repr or str(obj)[:200]
    actor_id = getattr(actor, "pk", None) if actor is not None else None
    actor_name = (
        (getattr(actor, "get_username", lambda: str(actor))() if actor is not None else "")
        if getattr(actor, "is_authenticated", True)
        else ""
    )
    with transaction.atomic():
        head, _created = AuditChainHead.objects.select_for_update().get_or_create(pk=1)
        entry = AuditEntry(
            seq=head.seq + 1,
            created_at=timezone.now(),
            actor_id=actor_id,
            actor_name=actor_name or "",
            action=action,
            object_type=object_type,
            object_id=str(object_id) if object_id != "" else "",
            object_repr=object_repr[:200],
            changes=_jsonable(dict(changes or {})),
            metadata=_jsonable(dict(metadata or {})),
            ip=info.ip,
            request_id=info.request_id,
            prev_hash=head.hash,
        )
        entry.hash = compute_hash(entry)
        entry.save(force_insert=True)
        head.seq, head.hash = entry.seq, entry.hash
        head.save(update_fields=["seq", "hash"])
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    bad_seq: int | None = None
    reason: str = ""


def audit_verify(*, chunk: int = 2000) -> VerifyResult:
    """Walk the chain in order; report the first row that is edited, missing or out of order."""
    expected_seq = 1
    prev = GENESIS
    checked = 0
    qs = AuditEntry.objects.order_by("seq")
    while True:
        page = list(qs.filter(seq__gte=expected_seq)[:chunk])
        if not page:
            break
        for entry in page:
            if entry.seq != expected_seq:
                return VerifyResult(
                    False, checked, expected_seq, f"缺少序号 {expected_seq} 的记录（被删除或重排）"
                )
            if entry.prev_hash != prev:
                return VerifyResult(
                    False, checked, entry.seq, "前一条哈希不匹配（记录被删除或重排）"
                )
            if compute_hash(entry) != entry.hash:
                return VerifyResult(False, checked, entry.seq, "记录内容与哈希不符（被篡改）")
            prev = entry.hash
            expected_seq += 1
            checked += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.seq != checked:
        return VerifyResult(
            False,
            checked,
            checked + 1,
            f"链头记录 {head.seq} 条，实际 {checked} 条（尾部记录被删除）",
        )
    return VerifyResult(True, checked)
