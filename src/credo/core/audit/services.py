"""Writing to, sealing and verifying the audit log.

Writing never touches a shared row. ``audit_record`` inserts the row with its content and
``content_hash = HMAC(key, canonical(content))``, inside the caller's transaction: a rolled-back
change leaves no row, and concurrent business transactions do not wait for each other.

Sealing chains the rows. ``audit_seal`` (a task every minute, and inline at the start of
``audit_verify`` / ``credo audit verify``) takes the committed unsealed rows in ``id`` order,
under the lock of the chain head that only the sealer touches, re-checks each row's content
hash and writes ``seq`` (consecutive), ``prev_hash`` and
``hash = HMAC(key, canonical(row incl. seq, prev_hash, content_hash, intact))``. Sealing order
is commit-visibility order: a row that commits after a sealing batch, even with a lower ``id``
than rows already sealed, is sealed by a later batch with a higher ``seq``. A row whose
content no longer matches its content hash (edited before sealing) is still sealed, with
``intact = False`` inside the keyed hash, so verify reports it for ever.

Verifying walks the sealed rows in ``seq`` order: editing a sealed row changes its hash;
deleting or reordering rows breaks either the ``seq`` sequence or the ``prev_hash`` link.
Deleting the newest rows (and moving the head back) is caught by keyed checkpoints of the tail
kept outside the database's control (``credo.core.audit.anchor``). Rows sealed at insert by
earlier versions (no content hash) keep their original hash formula and verify unchanged.

Personal data never enters the log in clear: values of sensitive fields (phone, ID number, bank
account, secrets — by field name anywhere in ``changes``/``metadata``, and every registered
sensitive field of the audited object) are masked by ``audit_record`` itself, so every app is
covered without each service remembering to do it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, connections, router, transaction
from django.db.models import Count, Min
from django.utils import timezone

from credo.core.audit.models import AuditChainHead, AuditEntry
from credo.core.context import current_request_info
from credo.core.masking import mask
from credo.core.sensitive import sensitive_fields

GENESIS = "0" * 64
SENSITIVE_MARK = "***"
SEAL_BATCH = 5000

logger = logging.getLogger(__name__)


_KEYS: dict[str, bytes] = {}


def _key() -> bytes:
    secret = settings.SECRET_KEY  # cached per secret: tests and key rotation change it
    key = _KEYS.get(secret)
    if key is None:
        key = _KEYS[secret] = hashlib.sha256(b"credo-audit:" + secret.encode()).digest()
    return key


def _content(entry: AuditEntry) -> dict[str, Any]:
    return {
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
    }


def _mac(payload: Mapping[str, Any]) -> str:
    message = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str).encode()
    return hmac.new(_key(), message, hashlib.sha256).hexdigest()


def content_hash(entry: AuditEntry) -> str:
    """Keyed hash of what the row says (no chain fields): written at insert."""
    return _mac({"content": _content(entry)})


def legacy_hash(entry: AuditEntry) -> str:
    """The chain hash of rows sealed at insert, before the sealer (no content hash)."""
    return _mac({**_content(entry), "seq": entry.seq, "prev_hash": entry.prev_hash})


def chain_hash(entry: AuditEntry, *, intact: bool = True) -> str:
    """The chain hash the sealer writes: the row, its position, its content hash, and whether
    the content still matched that hash when it was sealed."""
    return _mac(
        {
            **_content(entry),
            "seq": entry.seq,
            "prev_hash": entry.prev_hash,
            "content_hash": entry.content_hash,
            "intact": intact,
        }
    )


def compute_hash(entry: AuditEntry) -> str:
    """The hash a sealed row must carry (the formula depends on how it was sealed)."""
    return chain_hash(entry) if entry.content_hash else legacy_hash(entry)


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
    entry = AuditEntry(
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
    )
    entry.content_hash = content_hash(entry)
    _insert(entry)  # no shared row: the sealer chains it after commit
    return entry


def _insert(entry: AuditEntry) -> None:
    """``entry.save(force_insert=True)`` as one statement and one round trip, no read before
    it: the ORM's insert compiler was most of the CPU time of an audit write, paid by every
    business transaction. The chain fields are not sent (NULL until the sealer writes them).
    (Sending the row as the one canonical JSON text that was hashed and unpacking it on the
    server with ``jsonb_to_record`` was tried: ~40 µs less client CPU, ~80 µs more server CPU.)
    Nothing listens to the audit model's save signals; the row is append-only."""
    alias = router.db_for_write(AuditEntry)
    conn = connections[alias]
    key = (alias, conn.vendor)
    sql = _INSERT_SQL.get(key)
    if sql is None:
        quote = conn.ops.quote_name
        columns = ", ".join(quote(str(f.column)) for f in _INSERT_FIELDS)
        marks = ", ".join(["%s"] * len(_INSERT_FIELDS))
        sql = _INSERT_SQL[key] = (
            f"INSERT INTO {quote(AuditEntry._meta.db_table)} ({columns}) "  # noqa: S608
            f"VALUES ({marks}) RETURNING {quote(str(AuditEntry._meta.pk.column))}"
        )
    params = [f.get_db_prep_save(getattr(entry, f.attname), conn) for f in _INSERT_FIELDS]
    with conn.cursor() as cur:
        cur.execute(sql, params)
        entry.pk = cur.fetchone()[0]
    entry._state.adding, entry._state.db = False, alias


# Written by the sealer, NULL at insert (the columns' default): left out of the INSERT.
_CHAIN_FIELDS = frozenset({"seq", "prev_hash", "hash"})
_INSERT_FIELDS = [
    f for f in AuditEntry._meta.concrete_fields if not f.primary_key and f.name not in _CHAIN_FIELDS
]
_INSERT_SQL: dict[tuple[str, str], str] = {}


# --- sealing --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SealResult:
    sealed: int = 0
    batches: int = 0
    altered: tuple[int, ...] = ()  # ids whose content no longer matched their content hash
    busy: bool = False  # another sealer holds the head (a task run skips instead of waiting)


def _lock_head(*, wait: bool) -> AuditChainHead | None:
    """The chain head, locked for this transaction (created at the sealed tail if missing);
    None when ``wait`` is False and another sealer holds it."""
    qs = AuditChainHead.objects.select_for_update(skip_locked=not wait).filter(pk=1)
    head = qs.first()
    if head is not None:
        return head
    if AuditChainHead.objects.filter(pk=1).exists():
        return None  # locked by another sealer (skip_locked)
    tail = AuditEntry.objects.filter(seq__isnull=False).order_by("-seq").first()
    try:
        with transaction.atomic():
            AuditChainHead.objects.create(
                pk=1,
                seq=tail.seq if tail and tail.seq is not None else 0,
                hash=tail.hash if tail and tail.hash else GENESIS,
            )
    except IntegrityError:
        pass  # another sealer created it first
    return AuditChainHead.objects.select_for_update(skip_locked=not wait).filter(pk=1).first()


def _write_seals(rows: list[AuditEntry]) -> None:
    if connection.vendor == "postgresql":
        # One statement per 1,000 rows with four array parameters: a VALUES list of 4,000
        # placeholders cost psycopg ~60 µs per row just to split the query text.
        table = AuditEntry._meta.db_table
        for start in range(0, len(rows), 1000):
            part = rows[start : start + 1000]
            with connection.cursor() as cur:
                cur.execute(
                    f"UPDATE {table} AS a SET seq = v.seq, prev_hash = v.prev_hash, "  # noqa: S608
                    "hash = v.hash FROM unnest(%s::bigint[], %s::bigint[], %s::varchar[], "
                    "%s::varchar[]) AS v(id, seq, prev_hash, hash) "
                    "WHERE a.id = v.id AND a.seq IS NULL",
                    [
                        [e.pk for e in part],
                        [e.seq for e in part],
                        [e.prev_hash for e in part],
                        [e.hash for e in part],
                    ],
                )
                if cur.rowcount != len(part):
                    raise RuntimeError("audit rows changed while sealing")
    else:
        AuditEntry.objects.bulk_update(rows, ["seq", "prev_hash", "hash"], batch_size=500)


def _seal_batch(batch: int, *, wait: bool) -> tuple[int, list[int], bool]:
    with transaction.atomic():
        head = _lock_head(wait=wait)
        if head is None:
            return 0, [], True
        # Committed unsealed rows, oldest id first. A row still uncommitted is invisible here
        # and gets the next seq after it commits (commit-visibility order, see module doc).
        rows = list(AuditEntry.objects.filter(seq__isnull=True).order_by("id")[:batch])
        if not rows:
            return 0, [], False
        seq, prev = head.seq, head.hash
        altered: list[int] = []
        for entry in rows:
            intact = bool(entry.content_hash) and hmac.compare_digest(
                content_hash(entry), entry.content_hash
            )
            if not intact:
                altered.append(entry.pk)
            seq += 1
            entry.seq, entry.prev_hash = seq, prev
            entry.hash = chain_hash(entry, intact=intact)
            prev = entry.hash
        _write_seals(rows)
        head.seq, head.hash = seq, prev
        head.save(update_fields=["seq", "hash"])
    if altered:
        logger.error(
            "audit rows %s changed before sealing (content hash mismatch): sealed as altered",
            altered,
        )
    return len(rows), altered, False


def audit_seal(
    *,
    batch: int = SEAL_BATCH,
    max_batches: int | None = None,
    max_seconds: float | None = None,
    wait: bool = True,
) -> SealResult:
    """Chain the committed unsealed rows, ``batch`` rows per transaction, until none is left
    (or ``max_batches`` / ``max_seconds``). ``wait=False`` returns ``busy`` at once when another
    sealer runs (the scheduled task) instead of queueing behind it (verify)."""
    started = time.monotonic()
    sealed, batches = 0, 0
    altered: list[int] = []
    while max_batches is None or batches < max_batches:
        count, bad, busy = _seal_batch(batch, wait=wait)
        if busy:
            return SealResult(sealed, batches, tuple(altered), busy=True)
        if not count:
            break
        sealed, batches = sealed + count, batches + 1
        altered += bad
        if count < batch or (max_seconds is not None and time.monotonic() - started > max_seconds):
            break
    return SealResult(sealed, batches, tuple(altered))


# The lag the schedule guarantees: the sealer runs every minute for up to ~50 s and seals
# ≈ 2,000+ rows/s on two shared cores (far above what the writers produce), so a committed row
# is chained within about two minutes. An older unsealed row means the sealer is not running
# (worker or scheduler down) or a transaction stayed open that long: shown as a warning.
LAG_BOUND_SECONDS = 300


@dataclass(frozen=True)
class SealLag:
    unsealed: int
    oldest_seconds: float | None  # age of the oldest unsealed row

    @property
    def behind(self) -> bool:
        """The oldest unsealed row is older than the bound (``LAG_BOUND_SECONDS``)."""
        return bool(self.unsealed) and (self.oldest_seconds or 0.0) > LAG_BOUND_SECONDS

    def __str__(self) -> str:
        if not self.unsealed:
            return "0 条未封存"
        text = f"{self.unsealed} 条未封存，最早 {self.oldest_seconds or 0:.0f} 秒前"
        if self.behind:
            text += f"（超过 {LAG_BOUND_SECONDS // 60} 分钟：封存任务可能未运行）"
        return text


def audit_lag() -> SealLag:
    """How far the sealer is behind: unsealed rows and the age of the oldest."""
    agg = AuditEntry.objects.filter(seq__isnull=True).aggregate(
        n=Count("id"), oldest=Min("created_at")
    )
    oldest = agg["oldest"]
    age = max(0.0, (timezone.now() - oldest).total_seconds()) if oldest else None
    return SealLag(int(agg["n"] or 0), age)


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    bad_seq: int | None = None
    reason: str = ""
    anchor: str = ""  # the checkpoint that proves a problem (truncation, bad MAC)
    problems: tuple[str, ...] = ()  # every problem found, ``reason`` is the first
    anchors: int = 0  # checkpoints the chain was checked against
    sealed_now: int = 0  # rows the inline sealer chained before the walk
    lag: SealLag = field(default_factory=lambda: SealLag(0, None))  # rows still unsealed


def audit_checkpoint(*, source: str = "schedule", seal: bool = True) -> Any:
    """Seal what is committed, then anchor the sealed chain tail (``credo.core.audit.anchor``)."""
    from credo.core.audit.anchor import checkpoint_tail

    if seal:
        audit_seal()
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
                walk.seen[entry.seq] = entry.hash or ""
            walk.tail_hash = entry.hash or ""
            walk.checked += 1


def _link_problem(entry: AuditEntry, expected_seq: int, prev: str) -> str:
    if entry.seq != expected_seq:
        return f"缺少序号 {expected_seq} 的记录（被删除或重排）"
    if entry.prev_hash != prev:
        return "前一条哈希不匹配（记录被删除或重排）"
    return _row_problem(entry)


def _row_problem(entry: AuditEntry) -> str:
    stored = entry.hash or ""
    if hmac.compare_digest(compute_hash(entry), stored):
        return ""
    if hmac.compare_digest(chain_hash(entry, intact=False), stored):
        # the sealer found the content different from its content hash (or the hash removed)
        return "记录在封存前被改动（内容与写入时的内容哈希不符）"
    return "记录内容与哈希不符（被篡改）"


def audit_verify(*, chunk: int = 2000, checkpoint: bool = True, seal: bool = True) -> VerifyResult:
    """Seal what is committed (``seal``), then walk the sealed chain in order; report the first
    row that is edited, missing or out of order (or was edited before it was sealed), then
    check the chain against every keyed checkpoint (database and anchor file): a chain that
    ends before an anchored row, or differs from it, was truncated. A clean chain is anchored
    again (``checkpoint``), so the next verify can detect truncation of what was seen today.
    Rows committed after the inline seal are reported as unsealed (``lag``), not verified."""
    import dataclasses

    from credo.core.audit.anchor import collect_anchors, write_checkpoint

    sealed_now = audit_seal().sealed if seal else 0
    anchors, read_problems = collect_anchors()
    walk = _walk_chain({a.seq for a in anchors}, chunk)
    lag = audit_lag()
    if walk.broken is not None:
        return dataclasses.replace(walk.broken, sealed_now=sealed_now, lag=lag)
    checked, seen, prev = walk.checked, walk.seen, walk.tail_hash
    head = AuditChainHead.objects.filter(pk=1).first()
    if head is not None and head.seq != checked:
        return VerifyResult(
            False,
            checked,
            checked + 1,
            f"链头记录 {head.seq} 条，实际 {checked} 条（尾部记录被删除）",
            sealed_now=sealed_now,
            lag=lag,
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
            sealed_now=sealed_now,
            lag=lag,
        )
    if checkpoint and checked:
        write_checkpoint(seq=checked, row_hash=prev, count=checked, source="verify")
    return VerifyResult(True, checked, anchors=len(anchors), sealed_now=sealed_now, lag=lag)
