"""Due-date reminders (F1), the notify templates collections sends with, and the one path
collections queues borrower messages through (:func:`send_notices`, the bulk notification API)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from credo.collections.models import (
    ReminderLog,
    ReminderPolicy,
)
from credo.core.money import format_fen
from credo.lending.models import Installment, owed_expression
from credo.lending.states import LOAN_OPEN_STATES
from credo.notify.errors import NotifyError
from credo.notify.services import Notice, notify, notify_many, register_template

log = logging.getLogger(__name__)

DEFAULT_OFFSETS = (3, 1, 0)
BATCH = 2000


def notify_customer(**kwargs: Any) -> list[Any]:
    """``credo.notify.services.notify`` that never breaks the caller (a refusal is logged) —
    for the single messages people trigger; batches go through :func:`send_notices`."""
    try:
        return notify(**kwargs)
    except NotifyError as exc:
        log.warning("collections notify %s failed: %s", kwargs.get("template"), exc)
        return []


@dataclass
class SendCounts:
    """What :func:`send_notices` did: messages queued (incl. deferred to the end of the quiet
    window), suppressed (guardrails) and failed (no channel configured: retried from the outbox
    page), notices answered by an earlier message (same dedupe key) and refused (bad template
    or recipient); ``keys`` are the dedupe keys that have messages now."""

    queued: int = 0
    suppressed: int = 0
    failed: int = 0
    duplicates: int = 0
    refused: int = 0
    keys: set[str] = field(default_factory=set)


def send_notices(
    notices: Iterable[Notice], *, category: str, actor: Any = None, now: Any = None
) -> SendCounts:
    """Queue many borrower messages with ``notify_many`` (render, guardrails, dedupe, outbox
    and timeline rows in batches). Every notice carries a dedupe key, so a re-run sends nothing
    twice. A refusal never breaks the batch (counted and logged)."""
    notices = list(notices)
    out = SendCounts()
    if not notices:
        return out
    try:
        result = notify_many(notices, actor=actor, category=category, now=now, batch_size=BATCH)
    except NotifyError as exc:
        log.warning("collections notify_many (%d notices) failed: %s", len(notices), exc)
        out.refused = len(notices)
        return out
    rejected = {index for index, _reason in result.errors}
    for index, reason in result.errors[:20]:
        log.warning("collections notice %s refused: %s", notices[index].dedupe_key, reason)
    out.queued = result.queued + result.sent
    out.suppressed = result.suppressed
    out.duplicates = result.deduplicated
    out.failed = result.failed
    out.refused = result.rejected
    out.keys = {
        str(n.dedupe_key) for i, n in enumerate(notices) if n.dedupe_key and i not in rejected
    }
    return out


def register_templates() -> None:
    """The notify templates collections sends with (registered from the app's wiring)."""
    register_template(
        "collections.reminder",
        name=_("还款提醒"),
        subject="还款提醒",
        body=(
            "{{ name }}，您好：您的贷款 {{ loan_number }} 第 {{ period }} 期应还 {{ amount }} 元，"
            "还款日为 {{ due_date }}，请按时还款。"
        ),
        channels=["sms", "email"],
        sample={
            "name": "张三",
            "loan_number": "L0001",
            "period": 1,
            "amount": "1,000.00",
            "due_date": "2026-01-15",
        },
    )
    register_template(
        "collections.overdue",
        name=_("逾期催收短信"),
        subject="逾期提醒",
        body=(
            "{{ name }}，您好：您的贷款 {{ loan_number }} 已逾期 {{ dpd }} 天，"
            "逾期金额 {{ amount }} 元，请尽快还款，如已还款请忽略。"
        ),
        channels=["sms", "email"],
        sample={"name": "张三", "loan_number": "L0001", "dpd": 2, "amount": "1,000.00"},
    )
    # Third parties are never told debt details: no amount, loan or overdue variables.
    register_template(
        "collections.third_party",
        name=_("第三方转告"),
        subject="请转告",
        body="{{ contact_name }}，您好：请转告{{ name }}尽快与我司联系，谢谢。",
        channels=["sms"],
        sample={"contact_name": "李四", "name": "张三"},
    )


# --- reminders (F1) ------------------------------------------------------------------------------
def reminder_offsets() -> dict[int, list[int]]:
    """product id → offsets (days before the due date) configured in ReminderPolicy."""
    return {p.product_id: [int(o) for o in p.offsets] for p in ReminderPolicy.objects.all()}


def reminders_due(business_date: dt.date) -> list[tuple[int, int]]:
    """(installment id, offset) pairs to remind today and not reminded yet — set-based: one
    query per distinct offset, filtered by product where a policy differs from the default."""
    policies = reminder_offsets()
    offsets = set(DEFAULT_OFFSETS)
    for values in policies.values():
        offsets.update(values)
    pairs: list[tuple[int, int]] = []
    for offset in sorted(offsets):
        qs = Installment.objects.filter(
            due_date=business_date + dt.timedelta(days=offset),
            status__in=(Installment.Status.SCHEDULED, Installment.Status.DUE),
            loan__status__in=LOAN_OPEN_STATES,
        )
        # Products whose policy includes this offset, plus (when the default does) the rest.
        with_offset = [pid for pid, vals in policies.items() if offset in vals]
        without = [pid for pid, vals in policies.items() if offset not in vals]
        if offset in DEFAULT_OFFSETS:
            if without:
                qs = qs.exclude(loan__product_version__product_id__in=without)
        else:
            qs = qs.filter(loan__product_version__product_id__in=with_offset)
        qs = qs.exclude(pk__in=ReminderLog.objects.filter(offset=offset).values("installment_id"))
        pairs.extend((pk, offset) for pk in qs.values_list("pk", flat=True))
    return pairs


def reminders_send(business_date: dt.date, *, send: bool = True, actor: Any = None) -> int:
    """Send today's reminders; never twice for the same installment and offset (ReminderLog
    unique + the notify dedupe key). Returns the number of reminders newly logged."""
    return reminders_run(business_date, send=send, actor=actor)["logged"]


def _log_reminders(part: list[tuple[int, int]], business_date: dt.date, *, sent: set[str]) -> None:
    """The batch's ReminderLog rows (one per installment and offset; a row another run wrote
    first is kept as it is)."""
    ReminderLog.objects.bulk_create(
        [
            ReminderLog(
                installment_id=i,
                offset=o,
                business_date=business_date,
                sent=f"reminder:{i}:{o}" in sent,
            )
            for i, o in part
        ],
        ignore_conflicts=True,
    )


def reminders_run(
    business_date: dt.date, *, send: bool = True, actor: Any = None
) -> dict[str, int]:
    """Set-based reminders of ``business_date`` in batches of ``BATCH``: per batch one query for
    the installments (amount owed computed in SQL), one ``notify_many`` call and one ReminderLog
    insert with each reminder's sent flag, in one transaction (a batch interrupted half-way is
    redone by the next run; the dedupe keys keep its messages single). Returns counts."""
    counts = {
        "logged": 0,
        "messages_queued": 0,
        "messages_suppressed": 0,
        "messages_failed": 0,
        "messages_refused": 0,
    }
    pairs = reminders_due(business_date)
    for start in range(0, len(pairs), BATCH):
        part = pairs[start : start + BATCH]
        with transaction.atomic():
            if not send:
                _log_reminders(part, business_date, sent=set())
                counts["logged"] += len(part)
                continue
            insts = (
                Installment.objects.filter(pk__in=[i for i, _o in part])
                .select_related("loan__customer")
                .annotate(owed=owed_expression())
                .in_bulk()
            )
            notices = []
            for inst_id, offset in part:
                inst = insts[inst_id]
                customer = inst.loan.customer
                notices.append(
                    Notice(
                        template="collections.reminder",
                        context={
                            "name": customer.name,
                            "loan_number": inst.loan.number,
                            "period": inst.period,
                            "amount": format_fen(int(inst.owed or 0)),  # type: ignore[attr-defined]
                            "due_date": inst.due_date.isoformat(),
                        },
                        customer=customer,
                        dedupe_key=f"reminder:{inst_id}:{offset}",
                    )
                )
            sent = send_notices(notices, category="service", actor=actor)
            counts["messages_queued"] += sent.queued
            counts["messages_suppressed"] += sent.suppressed
            counts["messages_failed"] += sent.failed
            counts["messages_refused"] += sent.refused
            # logged with its sent flag in the same transaction as the messages (one write of
            # each row, not an insert and then an update of the sent ones)
            _log_reminders(part, business_date, sent=sent.keys)
            counts["logged"] += len(part)
    return counts
