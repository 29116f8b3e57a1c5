"""Writing to and verifying the audit log.

Every row stores ``hash = HMAC(key, prev_hash || canonical(row))``. Editing a row changes its
hash; deleting or reordering rows breaks either the ``seq`` sequence or the ``prev_hash`` link.
Writers serialise on ``AuditChainHead`` (one locked row) so concurrent writers cannot fork the
chain. Deleting the newest rows (and moving the head back) is caught by keyed checkpoints of the
tail kept outside the database's control (``credo.core.audit.anchor``).

Personal data never enters the log in clear: values of sensitive fields (phone, ID number, bank
account, secrets — by field name anywhere in ``changes``/``metadata``, and every registered
sensitive field of the audited object) are masked by ``audit_record`` itself, so every app is
covered without each service remembering to do it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from credo.core.audit.models import AuditChainHead, AuditEntry
from credo.core.context import current_request_info
from credo.core.masking import mask
from credo.core.sensitive import sensitive_fields

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


# Field names that hold personal data or secrets wherever they appear (any app, nested too),
# with the mask to apply. Registered sensitive fields add their own names and kinds below.
SENSITIVE_NAMES: dict[str, str] = {
    "phone": "phone",
    "mobile": "phone",
    "contact_phone": "phone",
    "phone_number": "phone",
    "telephone": "phone",
    "id_number": "id_number",
    "id_card": "id_number",
    "id_card_number": "id_number",
    "bank_account": "bank_account",
    "account_number": "bank_account",
    "card_number": "bank_account",
    "password": "all",
    "secret": "all",
    "smtp_password": "all",
    "auth_value": "all",
    "api_key": "all",
    "token": "all",
}


def mask_kinds_for(object_type: str) -> dict[str, str]:
    kinds = dict(SENSITIVE_NAMES)
    prefix = f"{object_type}." if object_type else None
    for entry in sensitive_fields():
        name = entry.key.rsplit(".", 1)[-1]
        if prefix and entry.key == prefix + name:
            kinds[name] = entry.mask_kind  # this object's own encrypted fields, whatever kind
        elif entry.mask_kind != "all":
            kinds.setdefault(name, entry.mask_kind)  # phone-like names of other models
    return kinds


def _mask_value(kind: str, value: Any) -> Any:
    if value is None or isinstance(value, bool) or value == SENSITIVE_MARK:
        return value
    if isinstance(value, list | tuple):
        return [_mask_value(kind, v) for v in value]  # [before, after]
    if isinstance(value, dict):
        return {k: _mask_value(kind, v) for k, v in value.items()}  # {"before":…, "after":…}
    return mask(kind, str(value))


def mask_sensitive(value: Any, kinds: Mapping[str, str]) -> Any:
    """Mask the values of sensitive keys anywhere in a JSON-like structure."""
    if isinstance(value, dict):
        return {
            k: _mask_value(kinds[k], v) if k in kinds else mask_sensitive(v, kinds)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [mask_sensitive(v, kinds) for v in value]
    return value


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
    kinds = mask_kinds_for(object_type)
    clean_changes = mask_sensitive(_jsonable(dict(changes or {})), kinds)
    clean_metadata = mask_sensitive(_jsonable(dict(metadata or {})), kinds)
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
            changes=clean_changes,
            metadata=clean_metadata,
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
    anchor: str = ""  # the checkpoint that proves a problem (truncation, bad MAC)
    problems: tuple[str, ...] = ()  # every problem found, ``reason`` is the first
    anchors: int = 0  # checkpoints the chain was checked against


def audit_checkpoint(*, source: str = "schedule") -> Any:
    """Anchor the current chain tail (see ``credo.core.audit.anchor``)."""
    from credo.core.audit.anchor import checkpoint_tail

    return checkpoint_tail(source=source)


@dataclass
class _Walk:
    broken: VerifyResult | None = None
    checked: int = 0
    tail_hash: str = GENESIS
    seen: dict[int, str] = field(default_factory=dict)  # hashes of the anchored rows seen


def _walk_chain(anchored_seqs: set[int], chunk: int) -> _Walk:
    """Walk the chain in ``seq`` order up to the first broken link (``broken``)."""
    walk = _Walk()
    qs = AuditEntry.objects.order_by("seq")
    while True:
        expected_seq = walk.checked + 1
        page = list(qs.filter(seq__gte=expected_seq)[:chunk])
        if not page:
            return walk
        for entry in page:
            problem = _link_problem(entry, walk.checked + 1, walk.tail_hash)
            if problem:
                # the expected seq is the bad one (equal to entry.seq unless a row is missing)
                walk.broken = VerifyResult(False, walk.checked, walk.checked + 1, problem)
                return walk
            if entry.seq in anchored_seqs:
                walk.seen[entry.seq] = entry.hash
            walk.tail_hash = entry.hash
            walk.checked += 1


def _link_problem(entry: AuditEntry, expected_seq: int, prev: str) -> str:
    if entry.seq != expected_seq:
        return f"缺少序号 {expected_seq} 的记录（被删除或重排）"
    if entry.prev_hash != prev:
        return "前一条哈希不匹配（记录被删除或重排）"
    if compute_hash(entry) != entry.hash:
        return "记录内容与哈希不符（被篡改）"
    return ""


def audit_verify(*, chunk: int = 2000, checkpoint: bool = True) -> VerifyResult:
    """Walk the chain in order; report the first row that is edited, missing or out of order,
    then check the chain against every keyed checkpoint (database and anchor file): a chain that
    ends before an anchored row, or differs from it, was truncated. A clean chain is anchored
    again (``checkpoint``), so the next verify can detect truncation of what was seen today."""
    from credo.core.audit.anchor import collect_anchors, write_checkpoint

    anchors, read_problems = collect_anchors()
    walk = _walk_chain({a.seq for a in anchors}, chunk)
    if walk.broken is not None:
        return walk.broken
    checked, seen, prev = walk.checked, walk.seen, walk.tail_hash
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.seq != checked:
        return VerifyResult(
            False,
            checked,
            checked + 1,
            f"链头记录 {head.seq} 条，实际 {checked} 条（尾部记录被删除）",
        )
    problems: list[tuple[str, int | None, str]] = []  # (message, bad seq, anchor)
    # Truncation first: the newest valid anchor beyond the tail says most about what is missing.
    for anchor in sorted((a for a in anchors if a.mac_ok), key=lambda a: -a.seq):
        if anchor.seq > checked:
            problems.append(
                (
                    f"审计链在第 {checked} 条结束，早于检查点记录的第 {anchor.seq} 条"
                    f"（共 {anchor.count} 条，哈希 {anchor.hash[:16]}…）：尾部记录被删除 "
                    f"(chain truncated: ends at seq={checked} before anchored seq={anchor.seq}; "
                    f"anchor: {anchor.origin})",
                    checked + 1,
                    anchor.origin,
                )
            )
        elif seen.get(anchor.seq) != anchor.hash:
            problems.append(
                (
                    f"第 {anchor.seq} 条记录的哈希与检查点不符：尾部被删除后重写 "
                    f"(row seq={anchor.seq} differs from anchor: {anchor.origin})",
                    anchor.seq,
                    anchor.origin,
                )
            )
    for anchor in anchors:
        if not anchor.mac_ok:
            problems.append(
                (
                    f"检查点校验码（MAC）错误：被伪造或锚点密钥已更换 "
                    f"(checkpoint MAC wrong: {anchor.origin}, seq={anchor.seq})",
                    None,
                    anchor.origin,
                )
            )
    problems.extend((text, None, "") for text in read_problems)
    if problems:
        message, bad_seq, origin = problems[0]
        return VerifyResult(
            False,
            checked,
            bad_seq,
            message,
            anchor=origin,
            problems=tuple(p[0] for p in problems),
            anchors=len(anchors),
        )
    if checkpoint and checked:
        write_checkpoint(seq=checked, row_hash=prev, count=checked, source="verify")
    return VerifyResult(True, checked, anchors=len(anchors))
