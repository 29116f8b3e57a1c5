"""Compliance guardrails for collection contacts (enforced by the server, never by the user).

* quiet hours (``CREDO_COLLECTION_QUIET_HOURS``, default ``"22:00-08:00"`` Asia/Shanghai): no
  call / SMS / visit / WeChat inside the window;
* a daily attempt cap per phone number (``CREDO_COLLECTION_DAILY_CAP``, default 6 calls);
* third parties only after ≥ 3 failed attempts to reach the borrower (无人接听/关机/空号);
* do-not-contact requests honoured for calls and SMS.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _

TZ = ZoneInfo("Asia/Shanghai")
QUIET_CHANNELS = ("call", "sms", "visit", "wechat")
DNC_CHANNELS = ("call", "sms")
THIRD_PARTY_MIN_FAILURES = 3


@dataclass(frozen=True)
class Refusal:
    rule: str
    message: str


def quiet_hours() -> tuple[dt.time, dt.time]:
    raw = str(getattr(settings, "CREDO_COLLECTION_QUIET_HOURS", "22:00-08:00") or "")
    start, end = (dt.time.fromisoformat(p.strip()) for p in raw.split("-", 1))
    return start, end


def daily_cap() -> int:
    return int(getattr(settings, "CREDO_COLLECTION_DAILY_CAP", 6))


def local(now: dt.datetime) -> dt.datetime:
    return now.astimezone(TZ)


def in_quiet_hours(now: dt.datetime) -> bool:
    start, end = quiet_hours()
    t = local(now).time()
    if start <= end:
        return start <= t < end
    return t >= start or t < end  # the window spans midnight


def check(
    *,
    case: object,
    channel: str,
    party: str,
    phone_key: str,
    now: dt.datetime,
) -> Refusal | None:
    """The first rule that refuses this attempt, or ``None``."""
    from credo.collections.models import (
        FAILED_OUTCOMES,
        ComplianceRule,
        ContactAttempt,
        DoNotContact,
    )

    if channel in QUIET_CHANNELS and in_quiet_hours(now):
        start, end = quiet_hours()
        return Refusal(
            ComplianceRule.QUIET_HOURS,
            _("合规限制：%(s)s 至 %(e)s（北京时间）禁止电话、短信、上门催收。")
            % {"s": start.strftime("%H:%M"), "e": end.strftime("%H:%M")},
        )
    customer_id = case.customer_id  # type: ignore[attr-defined]
    if channel in DNC_CHANNELS:
        dnc = DoNotContact.objects.filter(customer_id=customer_id).filter(
            Q(phone_key="") | (Q(phone_key=phone_key) & ~Q(phone_key=""))
        )
        if dnc.exists():
            return Refusal(
                ComplianceRule.DO_NOT_CONTACT,
                _("合规限制：该客户/号码已登记拒绝联系，禁止电话和短信。"),
            )
    if channel == "call" and phone_key:
        cap = daily_cap()
        used = ContactAttempt.objects.filter(
            phone_key=phone_key, channel="call", local_date=local(now).date()
        ).count()
        if used >= cap:
            return Refusal(
                ComplianceRule.DAILY_CAP,
                _("合规限制：同一号码每天最多拨打 %(n)d 次，今日已达上限。") % {"n": cap},
            )
    if party == "third_party":
        failures = ContactAttempt.objects.filter(
            case__loan_id=case.loan_id,  # type: ignore[attr-defined]
            party="borrower",
            outcome__in=FAILED_OUTCOMES,
        ).count()
        if failures < THIRD_PARTY_MIN_FAILURES:
            return Refusal(
                ComplianceRule.THIRD_PARTY,
                _("合规限制：联系借款人失败不足 %(n)d 次（无人接听/关机/空号），不得联系第三方。")
                % {"n": THIRD_PARTY_MIN_FAILURES},
            )
    return None
