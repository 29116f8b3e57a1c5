"""Borrower login: SMS one-time codes and borrower sessions.

* A code is 6 random digits, sent through the notification outbox (template
  ``borrower.login_code``, SMS, category service) to the customer whose registered mobile is the
  number entered; only ``salt$HMAC-SHA256(key, salt:code)`` is stored, the key derived from
  ``SECRET_KEY``. It expires after ``CREDO_BORROWER_OTP_TTL_SECONDS``, is void after
  ``CREDO_BORROWER_OTP_MAX_ATTEMPTS`` wrong entries and once a newer code is sent, and is used
  at most once.
* Rate limits (shared cache counters, credo.core.ratelimit): one code per number per
  ``…_RESEND_SECONDS``, ``…_PER_NUMBER_HOUR`` per number, ``…_PER_IP_HOUR`` per client address,
  ``…_VERIFY_PER_IP_HOUR`` code entries per address. They count unknown numbers exactly like
  known ones and the answer is the same, so the page does not tell who is a customer.
* Lockout: ``…_LOCKOUT_FAILURES`` wrong codes for a number within ``…_LOCKOUT_MINUTES`` (counted
  in the database, so every web process agrees) lock the number for that long.
* A session is a random token in its own cookie (``CREDO_BORROWER_COOKIE``, path ``/b/``,
  HttpOnly, SameSite=Lax, Secure like the staff cookie); only its hash is stored. It ends after
  ``…_SESSION_IDLE_MINUTES`` idle or ``…_SESSION_MAX_HOURS``, on logout, and — checked on every
  request — as soon as the customer's registered mobile changes or the customer is closed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.borrower import conf
from credo.borrower.errors import InvalidCode, InvalidInput, LockedOut, Throttled
from credo.borrower.models import BorrowerSession, OtpChallenge
from credo.core.audit.services import audit_record
from credo.core.crypto import blind_index
from credo.core.masking import mask
from credo.core.normalize import normalize
from credo.core.ratelimit import Rate, rate_limited
from credo.core.validators import is_valid_mobile
from credo.customers.models import Customer

LOGIN_TEMPLATE = "borrower.login_code"
SESSION_TOUCH_SECONDS = 60


def _key(purpose: str) -> bytes:
    return hashlib.sha256(
        f"credo-borrower-{purpose}:".encode() + settings.SECRET_KEY.encode()
    ).digest()


def hash_code(code: str, salt: str | None = None) -> str:
    salt = salt or secrets.token_hex(8)
    digest = hmac.new(_key("otp"), f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()
    return f"{salt}${digest}"


def code_matches(stored: str, code: str) -> bool:
    salt, _sep, _digest = stored.partition("$")
    return bool(salt) and hmac.compare_digest(stored, hash_code(code.strip(), salt))


def hash_token(token: str) -> str:
    return hmac.new(_key("session"), token.encode(), hashlib.sha256).hexdigest()


def _phone(raw: str) -> tuple[str, str]:
    """(normalized mobile, blind index) or InvalidInput."""
    phone = normalize("phone", raw or "")
    if not is_valid_mobile(phone):
        raise InvalidInput(_("请输入有效的 11 位手机号码。"))
    return phone, blind_index(phone, kind="phone")


def customers_for_phone(phone_bidx: str) -> list[Customer]:
    """Every customer (not closed) whose registered mobile has this blind index."""
    if not phone_bidx:
        return []
    return list(
        Customer.objects.filter(phone_bidx=phone_bidx)
        .exclude(status=Customer.Status.CLOSED)
        .order_by("id")
    )


def _lock_window() -> dt.timedelta:
    return dt.timedelta(minutes=int(conf.get("CREDO_BORROWER_LOCKOUT_MINUTES")))


def failures_recent(phone_bidx: str, now: dt.datetime | None = None) -> int:
    since = (now or timezone.now()) - _lock_window()
    total = OtpChallenge.objects.filter(phone_bidx=phone_bidx, created_at__gte=since).aggregate(
        n=Sum("failed_attempts")
    )["n"]
    return int(total or 0)


def is_locked(phone_bidx: str, now: dt.datetime | None = None) -> bool:
    return failures_recent(phone_bidx, now) >= int(conf.get("CREDO_BORROWER_LOCKOUT_FAILURES"))


def _locked_error() -> LockedOut:
    return LockedOut(
        _("验证码错误次数过多，该手机号已被锁定，请 %(m)s 分钟后再试。")
        % {"m": conf.get("CREDO_BORROWER_LOCKOUT_MINUTES")}
    )


def _throttle(bucket: str, ident: str, limit: int, seconds: int, message: str) -> None:
    if rate_limited(f"borrower:{bucket}", ident, Rate(limit, seconds)):
        raise Throttled(message)


@dataclass
class OtpSent:
    """What happened; the page shows the same answer either way (no enumeration)."""

    matched: bool
    challenge: OtpChallenge | None = None
    customer_ids: list[int] = field(default_factory=list)


def otp_request(*, phone: str, ip: str | None) -> OtpSent:
    """Send a login code to ``phone`` if it is a customer's registered mobile."""
    phone, bidx = _phone(phone)
    masked = mask("phone", phone)
    ip_ident = ip or "unknown"
    _throttle(
        "otp-ip",
        ip_ident,
        int(conf.get("CREDO_BORROWER_OTP_PER_IP_HOUR")),
        3600,
        _("请求验证码过于频繁，请稍后再试。"),
    )
    if is_locked(bidx):
        raise _locked_error()
    _throttle(
        "otp-resend",
        bidx,
        1,
        int(conf.get("CREDO_BORROWER_OTP_RESEND_SECONDS")),
        _("验证码已发送，请 %(s)s 秒后再重新获取。")
        % {"s": conf.get("CREDO_BORROWER_OTP_RESEND_SECONDS")},
    )
    _throttle(
        "otp-number",
        bidx,
        int(conf.get("CREDO_BORROWER_OTP_PER_NUMBER_HOUR")),
        3600,
        _("该手机号获取验证码次数过多，请 1 小时后再试。"),
    )
    customers = customers_for_phone(bidx)
    if not customers:
        with transaction.atomic():
            audit_record(
                action="borrower.otp_unknown_number",
                object_type="borrower.login",
                object_repr=masked,
                metadata={"phone": masked},
            )
        return OtpSent(matched=False)
    from credo.notify.services import notify

    code = f"{secrets.randbelow(10**6):06d}"
    now = timezone.now()
    ttl = int(conf.get("CREDO_BORROWER_OTP_TTL_SECONDS"))
    with transaction.atomic():
        # A new code voids the earlier ones: only the latest SMS is valid.
        OtpChallenge.objects.filter(
            phone_bidx=bidx, used_at__isnull=True, voided_at__isnull=True
        ).update(voided_at=now)
        challenge = OtpChallenge.objects.create(
            phone_bidx=bidx,
            code_hash=hash_code(code),
            created_at=now,
            expires_at=now + dt.timedelta(seconds=ttl),
            ip=ip,
        )
        messages = notify(
            template=LOGIN_TEMPLATE,
            context={"code": code, "minutes": max(ttl // 60, 1)},
            customer=customers[0],
            channel="sms",
            category="service",
        )
        if messages:
            challenge.message_id = messages[0].pk
            challenge.save(update_fields=["message_id"])
        audit_record(
            action="borrower.otp_sent",
            obj=customers[0],
            metadata={
                "phone": masked,
                "customer_ids": [c.pk for c in customers],
                "challenge": challenge.pk,
                "message": challenge.message_id,
            },
        )
    return OtpSent(matched=True, challenge=challenge, customer_ids=[c.pk for c in customers])


def _scrub_message(message_id: int | None) -> None:
    """Blank the code out of the outbox copy of a used SMS (the sender no longer needs it)."""
    if not message_id:
        return
    from credo.notify.models import Message

    Message.objects.filter(
        pk=message_id,
        template_code=LOGIN_TEMPLATE,
        status__in=(Message.Status.SENT, Message.Status.FAILED, Message.Status.SUPPRESSED),
    ).update(body=_("【已使用的登录验证码，内容已清除】"), params={})


def otp_verify(
    *, phone: str, code: str, ip: str | None, user_agent: str = ""
) -> tuple[BorrowerSession, str]:
    """Check the code; on success a new borrower session and its token (returned once)."""
    phone, bidx = _phone(phone)
    masked = mask("phone", phone)
    _throttle(
        "verify-ip",
        ip or "unknown",
        int(conf.get("CREDO_BORROWER_VERIFY_PER_IP_HOUR")),
        3600,
        _("尝试次数过多，请稍后再试。"),
    )
    if is_locked(bidx):
        raise _locked_error()
    code = (code or "").strip()
    now = timezone.now()
    max_attempts = int(conf.get("CREDO_BORROWER_OTP_MAX_ATTEMPTS"))
    failure: str | None = None
    with transaction.atomic():
        challenge = (
            OtpChallenge.objects.select_for_update()
            .filter(phone_bidx=bidx, used_at__isnull=True, voided_at__isnull=True)
            .order_by("-id")
            .first()
        )
        if challenge is None or challenge.expires_at <= now:
            failure = "expired" if challenge is not None else "no_code"
            if challenge is not None:
                challenge.voided_at = now
                challenge.save(update_fields=["voided_at"])
        elif not (code.isdigit() and len(code) == 6 and code_matches(challenge.code_hash, code)):
            failure = "wrong_code"
            challenge.failed_attempts += 1
            if challenge.failed_attempts >= max_attempts:
                challenge.voided_at = now
            challenge.save(update_fields=["failed_attempts", "voided_at"])
        customers = customers_for_phone(bidx) if failure is None else []
        if failure is None and not customers:
            failure = "no_customer"
        if failure is not None:
            audit_record(
                action="borrower.login_failed",
                object_type="borrower.login",
                object_repr=masked,
                metadata={
                    "phone": masked,
                    "reason": failure,
                    "challenge": challenge.pk if challenge else None,
                },
            )
            locked_now = failure == "wrong_code" and is_locked(bidx, now)
            if locked_now:
                audit_record(
                    action="borrower.locked_out",
                    object_type="borrower.login",
                    object_repr=masked,
                    metadata={
                        "phone": masked,
                        "minutes": conf.get("CREDO_BORROWER_LOCKOUT_MINUTES"),
                    },
                )
    if failure is not None:
        if failure == "wrong_code" and is_locked(bidx, now):
            raise _locked_error()
        if failure == "wrong_code" and challenge is not None and challenge.voided_at is None:
            raise InvalidCode(
                _("验证码错误，还可尝试 %(n)s 次。")
                % {"n": max_attempts - challenge.failed_attempts}
            )
        raise InvalidCode(_("验证码错误或已失效，请重新获取。"))
    assert challenge is not None
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        OtpChallenge.objects.filter(pk=challenge.pk, used_at__isnull=True).update(used_at=now)
        session = BorrowerSession.objects.create(
            token_hash=hash_token(token),
            phone_bidx=bidx,
            phone_masked=masked,
            customer_ids=[c.pk for c in customers],
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=int(conf.get("CREDO_BORROWER_SESSION_MAX_HOURS"))),
            ip=ip,
            user_agent=(user_agent or "")[:200],
        )
        audit_record(
            action="borrower.login",
            obj=customers[0],
            metadata={
                "phone": masked,
                "customer_ids": session.customer_ids,
                "borrower_session": session.pk,
            },
        )
        _scrub_message(challenge.message_id)
    return session, token


def session_resolve(token: str | None, now: dt.datetime | None = None) -> BorrowerSession | None:
    """The live session of ``token`` with ``customer_ids`` narrowed to the customers that still
    carry the number; None (and the session ended) when it is over."""
    if not token:
        return None
    now = now or timezone.now()
    session = BorrowerSession.objects.filter(
        token_hash=hash_token(token), ended_at__isnull=True
    ).first()
    if session is None:
        return None
    idle = dt.timedelta(minutes=int(conf.get("CREDO_BORROWER_SESSION_IDLE_MINUTES")))
    ids = [c.pk for c in customers_for_phone(session.phone_bidx) if c.pk in session.customer_ids]
    if session.expires_at <= now or session.last_seen_at + idle <= now or not ids:
        reason = "no_customer" if not ids else "expired"
        session_end(session, reason=reason, now=now)
        return None
    session.customer_ids = ids
    if (now - session.last_seen_at).total_seconds() >= SESSION_TOUCH_SECONDS:
        BorrowerSession.objects.filter(pk=session.pk).update(last_seen_at=now)
        session.last_seen_at = now
    return session


def session_end(session: BorrowerSession, *, reason: str, now: dt.datetime | None = None) -> None:
    now = now or timezone.now()
    with transaction.atomic():
        ended = BorrowerSession.objects.filter(pk=session.pk, ended_at__isnull=True).update(
            ended_at=now
        )
        if ended:
            audit_record(
                action="borrower.logout" if reason == "logout" else "borrower.session_ended",
                object_type="borrower.borrowersession",
                object_id=session.pk,
                object_repr=session.phone_masked,
                metadata={"reason": reason, "customer_ids": session.customer_ids},
            )
    session.ended_at = now


__all__ = [
    "OtpSent",
    "code_matches",
    "customers_for_phone",
    "hash_code",
    "hash_token",
    "is_locked",
    "otp_request",
    "otp_verify",
    "session_end",
    "session_resolve",
]
