"""Due-date reminders (F1) and the notify templates collections sends with."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.utils.translation import gettext as _

from credo.collections.models import (
    ReminderLog,
    ReminderPolicy,
)
from credo.core.money import format_fen
from credo.lending.models import Installment
from credo.lending.states import LOAN_OPEN_STATES
from credo.notify.errors import NotifyError
from credo.notify.services import notify, register_template

log = logging.getLogger(__name__)

DEFAULT_OFFSETS = (3, 1, 0)


def notify_customer(**kwargs: Any) -> list[Any]:
    """``credo.notify.services.notify`` that never breaks the caller (a refusal is logged)."""
    try:
        return notify(**kwargs)
    except NotifyError as exc:
        log.warning("collections notify %s failed: %s", kwargs.get("template"), exc)
        return []


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


def reminders_send(business_date: dt.date, *, send: bool = True) -> int:
    """Send today's reminders; never twice for the same installment and offset (ReminderLog
    unique + the notify dedupe key). Returns the number of reminders newly logged."""
    pairs = reminders_due(business_date)
    if not pairs:
        return 0
    logs = [ReminderLog(installment_id=i, offset=o, business_date=business_date) for i, o in pairs]
    ReminderLog.objects.bulk_create(logs, ignore_conflicts=True, batch_size=2000)
    if not send:
        return len(pairs)
    insts = Installment.objects.select_related("loan", "loan__customer").in_bulk(
        [i for i, _o in pairs]
    )
    sent_ids = []
    for inst_id, offset in pairs:
        inst = insts[inst_id]
        due = inst.amount_owed()
        msgs = notify_customer(
            template="collections.reminder",
            customer=inst.loan.customer,
            category="service",
            dedupe_key=f"reminder:{inst.pk}:{offset}",
            context={
                "name": inst.loan.customer.name,
                "loan_number": inst.loan.number,
                "period": inst.period,
                "amount": format_fen(due),
                "due_date": inst.due_date.isoformat(),
            },
        )
        if msgs:
            sent_ids.append(inst_id)
    if sent_ids:
        ReminderLog.objects.filter(installment_id__in=sent_ids, business_date=business_date).update(
            sent=True
        )
    return len(pairs)
