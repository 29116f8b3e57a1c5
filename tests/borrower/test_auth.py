"""Borrower login: hashed one-time codes, expiry, single use, rate limits, lockout."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from credo.borrower import auth
from credo.borrower.errors import InvalidCode, InvalidInput, LockedOut, Throttled
from credo.borrower.models import BorrowerSession, OtpChallenge
from credo.core.audit.models import AuditEntry
from credo.core.crypto import blind_index
from credo.notify.models import Message
from tests.borrower.conftest import PHONE_A, last_code

pytestmark = pytest.mark.django_db

IP = "198.51.100.7"


def _forget_resend(phone: str) -> None:
    cache.delete(f"credo:rl:borrower:otp-resend:{blind_index(phone, kind='phone')}")


def test_code_is_sent_by_sms_and_stored_only_as_a_keyed_hash(cust_a):
    sent = auth.otp_request(phone=PHONE_A, ip=IP)
    assert sent.matched and sent.customer_ids == [cust_a.pk]
    code = last_code(cust_a)
    challenge = OtpChallenge.objects.get()
    assert code not in challenge.code_hash
    salt, digest = challenge.code_hash.split("$")
    assert salt and len(digest) == 64
    assert auth.code_matches(challenge.code_hash, code)
    assert not auth.code_matches(challenge.code_hash, f"{(int(code) + 1) % 10**6:06d}")
    # the same code hashes differently under another salt (no lookup table across rows)
    assert auth.hash_code(code) != auth.hash_code(code)
    msg = Message.objects.get(template_code="borrower.login_code")
    assert msg.kind == "sms" and msg.customer_id == cust_a.pk
    assert challenge.message_id == msg.pk
    assert challenge.expires_at - challenge.created_at == dt.timedelta(seconds=300)
    row = AuditEntry.objects.filter(action="borrower.otp_sent").get()
    assert row.actor_id is None and row.metadata["customer_ids"] == [cust_a.pk]
    assert PHONE_A not in str(row.metadata)


def test_unknown_number_gets_the_same_answer_and_no_sms(cust_a):
    sent = auth.otp_request(phone="13700000009", ip=IP)
    assert not sent.matched
    assert not OtpChallenge.objects.exists()
    assert not Message.objects.filter(template_code="borrower.login_code").exists()
    assert AuditEntry.objects.filter(action="borrower.otp_unknown_number").count() == 1


def test_invalid_number_is_refused(db):
    with pytest.raises(InvalidInput):
        auth.otp_request(phone="12345", ip=IP)


def test_right_code_logs_in_once(cust_a):
    auth.otp_request(phone=PHONE_A, ip=IP)
    code = last_code(cust_a)
    session, token = auth.otp_verify(phone=PHONE_A, code=code, ip=IP)
    assert session.customer_ids == [cust_a.pk]
    assert session.token_hash == auth.hash_token(token) and token not in session.token_hash
    assert auth.session_resolve(token).pk == session.pk
    with pytest.raises(InvalidCode):
        auth.otp_verify(phone=PHONE_A, code=code, ip=IP)  # used
    assert BorrowerSession.objects.count() == 1
    login = AuditEntry.objects.get(action="borrower.login")
    assert login.actor_id is None and login.metadata["borrower_session"] == session.pk


def test_expired_code_is_refused(cust_a):
    auth.otp_request(phone=PHONE_A, ip=IP)
    code = last_code(cust_a)
    OtpChallenge.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    with pytest.raises(InvalidCode):
        auth.otp_verify(phone=PHONE_A, code=code, ip=IP)
    assert OtpChallenge.objects.get().voided_at is not None
    assert not BorrowerSession.objects.exists()


def test_a_new_code_voids_the_previous_one(cust_a):
    auth.otp_request(phone=PHONE_A, ip=IP)
    first = last_code(cust_a)
    _forget_resend(PHONE_A)
    auth.otp_request(phone=PHONE_A, ip=IP)
    second = last_code(cust_a)
    if first != second:
        with pytest.raises(InvalidCode):
            auth.otp_verify(phone=PHONE_A, code=first, ip=IP)
    auth.otp_verify(phone=PHONE_A, code=second, ip=IP)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def test_code_is_void_after_max_wrong_attempts(cust_a):
    auth.otp_request(phone=PHONE_A, ip=IP)
    code = last_code(cust_a)
    for n in range(4):
        with pytest.raises(InvalidCode, match=f"还可尝试 {4 - n} 次"):
            auth.otp_verify(phone=PHONE_A, code=_wrong(code), ip=IP)
    with pytest.raises(InvalidCode):
        auth.otp_verify(phone=PHONE_A, code=_wrong(code), ip=IP)
    assert OtpChallenge.objects.get().voided_at is not None
    with pytest.raises(InvalidCode):
        auth.otp_verify(phone=PHONE_A, code=code, ip=IP)  # right, but too late
    assert not BorrowerSession.objects.exists()
    assert AuditEntry.objects.filter(action="borrower.login_failed").count() == 6


def test_number_is_locked_after_repeated_failures_then_released(cust_a, settings):
    settings.CREDO_BORROWER_LOCKOUT_FAILURES = 6
    auth.otp_request(phone=PHONE_A, ip=IP)
    code = last_code(cust_a)
    for _ in range(5):
        with pytest.raises(InvalidCode):
            auth.otp_verify(phone=PHONE_A, code=_wrong(code), ip=IP)
    _forget_resend(PHONE_A)
    auth.otp_request(phone=PHONE_A, ip=IP)
    code = last_code(cust_a)
    with pytest.raises(LockedOut):
        auth.otp_verify(phone=PHONE_A, code=_wrong(code), ip=IP)  # 6th failure locks
    assert AuditEntry.objects.filter(action="borrower.locked_out").count() == 1
    with pytest.raises(LockedOut):
        auth.otp_verify(phone=PHONE_A, code=code, ip=IP)  # even the right code
    _forget_resend(PHONE_A)
    with pytest.raises(LockedOut):
        auth.otp_request(phone=PHONE_A, ip=IP)
    # the failures age out of the lockout window
    OtpChallenge.objects.update(created_at=timezone.now() - dt.timedelta(minutes=31))
    assert not auth.is_locked(blind_index(PHONE_A, kind="phone"))
    auth.otp_request(phone=PHONE_A, ip=IP)
    auth.otp_verify(phone=PHONE_A, code=last_code(cust_a), ip=IP)


def test_resend_interval_and_hourly_limit_per_number(cust_a, settings):
    settings.CREDO_BORROWER_OTP_PER_NUMBER_HOUR = 2
    auth.otp_request(phone=PHONE_A, ip=IP)
    with pytest.raises(Throttled, match="秒后"):
        auth.otp_request(phone=PHONE_A, ip="198.51.100.8")  # another address, same number
    _forget_resend(PHONE_A)
    auth.otp_request(phone=PHONE_A, ip=IP)
    _forget_resend(PHONE_A)
    with pytest.raises(Throttled, match="1 小时"):
        auth.otp_request(phone=PHONE_A, ip=IP)
    assert OtpChallenge.objects.count() == 2


def test_unknown_numbers_count_like_known_ones(db, settings):
    settings.CREDO_BORROWER_OTP_PER_NUMBER_HOUR = 1
    auth.otp_request(phone="13700000009", ip=IP)
    _forget_resend("13700000009")
    with pytest.raises(Throttled):
        auth.otp_request(phone="13700000009", ip=IP)


def test_requests_per_address_are_limited(cust_a, settings):
    settings.CREDO_BORROWER_OTP_PER_IP_HOUR = 3
    for n in range(3):
        auth.otp_request(phone=f"1370000001{n}", ip=IP)
    with pytest.raises(Throttled):
        auth.otp_request(phone=PHONE_A, ip=IP)
    auth.otp_request(phone=PHONE_A, ip="198.51.100.99")  # another address is not affected


def test_code_entries_per_address_are_limited(cust_a, settings):
    settings.CREDO_BORROWER_VERIFY_PER_IP_HOUR = 2
    auth.otp_request(phone=PHONE_A, ip=IP)
    code = last_code(cust_a)
    for _ in range(2):
        with pytest.raises(InvalidCode):
            auth.otp_verify(phone=PHONE_A, code=_wrong(code), ip=IP)
    with pytest.raises(Throttled):
        auth.otp_verify(phone=PHONE_A, code=code, ip=IP)


def test_used_code_is_scrubbed_from_the_outbox(cust_a, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        auth.otp_request(phone=PHONE_A, ip=IP)
    msg = Message.objects.get(template_code="borrower.login_code")
    assert msg.status == "sent"
    code = last_code(cust_a)
    auth.otp_verify(phone=PHONE_A, code=code, ip=IP)
    msg.refresh_from_db()
    assert code not in msg.body and msg.params == {}


def test_session_idle_and_max_age(cust_a):
    auth.otp_request(phone=PHONE_A, ip=IP)
    session, token = auth.otp_verify(phone=PHONE_A, code=last_code(cust_a), ip=IP)
    BorrowerSession.objects.filter(pk=session.pk).update(
        last_seen_at=timezone.now() - dt.timedelta(minutes=16)
    )
    assert auth.session_resolve(token) is None
    assert BorrowerSession.objects.get(pk=session.pk).ended_at is not None


def test_session_ends_when_the_registered_mobile_changes(cust_a, owner):
    from credo.customers.models import Customer

    auth.otp_request(phone=PHONE_A, ip=IP)
    _session, token = auth.otp_verify(phone=PHONE_A, code=last_code(cust_a), ip=IP)
    Customer.objects.filter(pk=cust_a.pk).update(
        phone_bidx=blind_index("13600000000", kind="phone")
    )
    assert auth.session_resolve(token) is None
