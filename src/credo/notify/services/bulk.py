"""The one path that writes messages into the outbox: :func:`notify_many` (and :func:`notify`,
a one-notice call of the same code).

Per batch of notices (``batch_size``, one transaction — a savepoint inside the caller's):

1. dedupe keys: one query for the keys already in the outbox; a key repeated inside the batch
   is answered by its first notice (exactly as two calls of ``notify()`` one after the other);
2. templates: one query per batch, compiled once per code, rendered per notice;
3. channels: looked up once per kind;
4. preferences: one query for every recipient; recipients of a capped category (daily caps)
   have their preference row locked ``FOR UPDATE`` in one statement ordered by id (missing rows
   are created first) — see *Daily caps under concurrency* below;
5. guardrails per notice, identical to the single path because it *is* the single path:
   do-not-contact, opt-out, missing address, quiet hours (deferral), the daily cap counted from
   one grouped ``COUNT`` per batch plus the messages accepted earlier in the same batch;
6. writes: messages with one ``bulk_create``, customer timeline rows with one bulk insert,
   suppressions with ONE audit row per batch (``notify.suppressed_batch``: counts per reason,
   template, category, message ids; a batch with a single suppression writes today's
   ``notify.suppressed`` row for that message);
7. after commit, one sender kick: ``send_message`` when exactly one message is due now, else
   one ``send_due`` task that claims due messages in batches (sending stays per message through
   the gateways with retries).

Daily caps under concurrency
----------------------------
The cap is a promise to the borrower and the regulator ("at most 3 collection SMS a day"), so
two concurrent batches must not both pass it. The batch locks the ``NotifyPreference`` rows of
the recipients of a capped category (one ``SELECT … ORDER BY id FOR UPDATE``) *before* it reads
the preferences and counts the day's messages, and holds the locks to commit. A concurrent
batch for an overlapping recipient waits, then (READ COMMITTED: each statement takes a fresh
snapshot) counts the first batch's committed messages. This is the guarantee today's
per-message ``SELECT … FOR UPDATE`` gave, at one statement per batch. Row locks live in the
tuples, not in the shared lock table, so 2,000 of them never exhaust
``max_locks_per_transaction`` (per-recipient advisory locks would); a single global advisory
lock would serialize every collection/marketing notification of every business transaction
behind a bulk batch. Uncapped categories (``service``: due-date reminders) take no lock.
The preference row is a leaf in the lock order: nothing is locked after it.

Refusals (unknown template, category, channel, an impossible recipient) raise
``NotifyError`` from :func:`notify`; :func:`notify_many` counts them in ``rejected`` and lists
them in ``errors`` (the other notices of the batch are written).

This module holds the public API and steps 1–3; ``bulk_guardrails`` steps 4–5 (and the
daily-cap locking), ``bulk_write`` steps 6–7.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.notify import guardrails
from credo.notify.errors import InvalidRecipient, NotifyError
from credo.notify.models import Category, Kind, MarketingConsent, Message, MessageTemplate
from credo.notify.services.bulk_guardrails import (
    ChannelCache,
    Item,
    Plan,
    load_preferences,
    plan_messages,
)
from credo.notify.services.bulk_write import (
    audit_suppressions,
    count_messages,
    kick_sender,
    record_timeline,
    write_messages,
)
from credo.notify.services.recipients import GROUP_KINDS, normalize_channel
from credo.notify.services.templates import CompiledTemplate, template_get


@dataclass(frozen=True)
class Notice:
    """One notification to send: the keyword arguments of :func:`notify` for one recipient.

    ``user``/``customer`` are model instances loaded by the caller; only their ids and the
    address fields are used (customers: ``phone``, ``risk_flags``; users: ``email``), so
    ``Customer.objects.only("id", "phone", "risk_flags")`` is enough.
    """

    template: str
    context: Mapping[str, Any]
    user: Any = None
    customer: Any = None
    channel: str | None = None
    dedupe_key: str | None = None
    url: str = ""
    send_after: dt.datetime | None = None
    attachments: list[dict[str, str]] | None = None


@dataclass
class BulkResult:
    """What :func:`notify_many` did. Message counts (``created`` = ``queued`` + ``sent`` +
    ``suppressed`` + ``failed``) and notice counts (``deduplicated``: answered by an existing
    dedupe key, nothing written; ``rejected``: refused, reasons in ``errors``)."""

    created: int = 0
    queued: int = 0
    sent: int = 0  # in-app messages, delivered on creation
    suppressed: int = 0
    deduplicated: int = 0
    failed: int = 0  # created FAILED: no channel configured for the kind
    rejected: int = 0
    suppressed_by_reason: dict[str, int] = field(default_factory=dict)
    message_ids: list[int] = field(default_factory=list)  # the messages created by this call
    errors: list[tuple[int, str]] = field(default_factory=list)  # (notice index, reason)

    def merge(self, other: BulkResult) -> None:
        for name in ("created", "queued", "sent", "suppressed", "deduplicated", "failed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejected += other.rejected
        for reason, n in other.suppressed_by_reason.items():
            self.suppressed_by_reason[reason] = self.suppressed_by_reason.get(reason, 0) + n
        self.message_ids.extend(other.message_ids)
        self.errors.extend(other.errors)


def notify_many(
    notices: Iterable[Notice],
    *,
    actor: Any = None,
    category: str = "service",
    now: dt.datetime | None = None,
    batch_size: int = 2000,
) -> BulkResult:
    """Queue many notifications under the guardrails, ``batch_size`` notices per transaction
    (a savepoint when the caller has one open). Same rules and the same rows as calling
    :func:`notify` once per notice in order; see the module docstring for what is batched."""
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    now = now or timezone.now()
    total = BulkResult()
    offset = 0
    for chunk in _chunks(notices, batch_size):
        batch = _Batch(chunk, actor=actor, category=category, now=now, strict=False)
        batch.run()
        for index, reason in sorted(batch.result.errors):
            total.errors.append((offset + index, reason))
        batch.result.errors = []
        total.merge(batch.result)
        offset += len(chunk)
    return total


def notify_one(notice: Notice, *, actor: Any, category: str, now: dt.datetime) -> list[Message]:
    """:func:`notify`'s engine: one notice through the batch path; refusals raise."""
    batch = _Batch([notice], actor=actor, category=category, now=now, strict=True)
    batch.run()
    return batch.messages_for[0]


def apply_consent(plans: list[Plan]) -> None:
    """Suppress consent-category messages to customers without marketing consent in force
    (or, when consent is not required, after a withdrawal): one query per batch."""
    customer_ids = {
        p.item.notice.customer.pk
        for p in plans
        if not p.suppressed and p.item.notice.customer is not None
    }
    if not customer_ids:
        return
    in_force: dict[int, set[str]] = {}
    withdrawn: dict[int, set[str]] = {}
    rows = MarketingConsent.objects.filter(customer_id__in=customer_ids).values_list(
        "customer_id", "channel", "withdrawn_at"
    )
    for customer_id, channel, withdrawn_at in rows:
        target = withdrawn if withdrawn_at is not None else in_force
        target.setdefault(customer_id, set()).add(channel)
    required = bool(getattr(settings, "CREDO_MARKETING_CONSENT_REQUIRED", True))
    reason = _("客户未同意或已撤回营销联系，消息未发送。")
    for plan in plans:
        customer = plan.item.notice.customer
        if plan.suppressed or customer is None:
            continue
        if not guardrails.consent_allows(
            plan.kind,
            in_force.get(customer.pk, set()),
            withdrawn.get(customer.pk, set()),
            required=required,
        ):
            plan.suppressed = reason
            plan.reason_key = guardrails.NO_CONSENT


def _chunks(items: Iterable[Notice], size: int) -> Iterator[list[Notice]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


class _Batch:
    def __init__(
        self,
        notices: list[Notice],
        *,
        actor: Any,
        category: str,
        now: dt.datetime,
        strict: bool,
    ) -> None:
        self.notices = notices
        self.actor = actor
        self.category = category
        self.now = now
        self.strict = strict
        self.result = BulkResult()
        self.messages_for: dict[int, list[Message]] = {}

    # --- driver ---------------------------------------------------------------------------------
    def run(self) -> None:
        # A concurrent writer may insert one of our dedupe keys between the dedupe query and the
        # insert: the unique constraint refuses ours, the savepoint rolls back, and the retry
        # sees the winner's rows (answered as duplicates).
        for attempt in range(3):
            self.result = BulkResult()
            self.messages_for = {}
            try:
                with transaction.atomic():
                    self._run()
                return
            except IntegrityError:
                if attempt == 2 or not any(n.dedupe_key for n in self.notices):
                    raise

    def _reject(self, index: int, exc: NotifyError) -> None:
        if self.strict:
            raise exc
        self.result.rejected += 1
        self.result.errors.append((index, str(exc.message)))

    def _run(self) -> None:
        if self.category not in Category.values:
            exc = InvalidRecipient(_("未知的消息类别：%(c)s") % {"c": self.category})
            for i in range(len(self.notices)):
                self._reject(i, exc)
            return
        items = self._validated()
        items, duplicates, owners = self._deduplicated(items)
        items = self._rendered(items)
        recipients = [(it.notice.user, it.notice.customer) for it in items]
        prefs = load_preferences(recipients, category=self.category)
        channels = ChannelCache()
        plans = plan_messages(
            items, prefs, channels, category=self.category, now=self.now, reject=self._reject
        )
        if self.category in guardrails.CONSENT_CATEGORIES:
            apply_consent(plans)
        messages = write_messages(
            plans,
            channels,
            actor=self.actor,
            category=self.category,
            now=self.now,
            strict=self.strict,
            messages_for=self.messages_for,
        )
        for i, key in duplicates:  # answered by the first notice of the batch with the key
            self.messages_for[i] = self.messages_for.get(owners[key], [])
            self.result.deduplicated += 1
        count_messages(self.result, messages, plans)
        audit_suppressions(messages, plans, actor=self.actor, category=self.category)
        record_timeline(messages, actor=self.actor)
        due = [
            m.pk
            for m in messages
            if m.status == Message.Status.QUEUED and m.scheduled_at <= self.now
        ]
        if due:
            transaction.on_commit(functools.partial(kick_sender, due))

    # --- steps ----------------------------------------------------------------------------------
    def _validated(self) -> list[Item]:
        """Recipients and channels checked (no query); refusals are set aside."""
        items = []
        for i, notice in enumerate(self.notices):
            try:
                explicit, force_sim = self._validate(notice)
            except NotifyError as exc:
                self._reject(i, exc)
                continue
            items.append(Item(i, notice, explicit, force_sim))
        return items

    def _deduplicated(
        self, items: list[Item]
    ) -> tuple[list[Item], list[tuple[int, str]], dict[str, int]]:
        """Drop the notices whose dedupe key is in the outbox (one query) or owned by an
        earlier notice of the batch. Returns (to do, in-batch duplicates, key → owner)."""
        keys = {it.notice.dedupe_key for it in items if it.notice.dedupe_key}
        existing: dict[str, list[Message]] = {}
        if keys and self.strict:  # notify() returns the first call's messages
            for msg in Message.objects.filter(dedupe_key__in=keys).order_by("id"):
                existing.setdefault(msg.dedupe_key or "", []).append(msg)
        elif keys:  # notify_many() only counts them
            found = Message.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
            existing = {key: [] for key in found if key}
        owners: dict[str, int] = {}
        todo: list[Item] = []
        duplicates: list[tuple[int, str]] = []
        for it in items:
            key = it.notice.dedupe_key
            if key and key in existing:
                self.messages_for[it.index] = existing[key]
                self.result.deduplicated += 1
            elif key and key in owners:
                duplicates.append((it.index, key))
            else:
                if key:
                    owners[key] = it.index
                todo.append(it)
        return todo, duplicates, owners

    def _rendered(self, items: list[Item]) -> list[Item]:
        """Templates fetched in one query, compiled once per code, rendered per notice."""
        templates: dict[str, tuple[MessageTemplate, CompiledTemplate]] = {}
        codes = {it.notice.template for it in items}
        for tpl in MessageTemplate.objects.filter(code__in=codes):
            templates[tpl.code] = (tpl, CompiledTemplate(tpl.subject, tpl.body))
        done = []
        for it in items:
            try:
                if it.notice.template not in templates:
                    tpl = template_get(it.notice.template)  # installs a registered default
                    templates[tpl.code] = (tpl, CompiledTemplate(tpl.subject, tpl.body))
                it.template, compiled = templates[it.notice.template]
                it.subject, it.body = compiled.render(it.notice.context)
            except NotifyError as exc:
                self._reject(it.index, exc)
                continue
            done.append(it)
        return done

    def _validate(self, notice: Notice) -> tuple[str | None, bool]:
        user, customer = notice.user, notice.customer
        if user is not None and customer is not None:
            raise InvalidRecipient(_("一条消息只能有一个接收人。"))
        explicit, force_sim = normalize_channel(notice.channel)
        if user is None and customer is None and explicit not in (None, *GROUP_KINDS):
            raise InvalidRecipient(_("没有接收人时只能发送到群机器人。"))
        if explicit == Kind.INAPP and user is None:
            raise InvalidRecipient(_("站内消息只能发给员工。"))
        return explicit, force_sim


__all__ = ["BulkResult", "Notice", "notify_many", "notify_one"]
