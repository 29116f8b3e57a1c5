"""Compliance guardrails with an explicit clock: blocked AND logged, nothing else changes."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from credo.collections import services
from credo.collections.errors import GuardrailViolation
from credo.collections.forms import ContactForm
from credo.collections.models import CollectionCase, ComplianceLog, ContactAttempt
from credo.core.audit.models import AuditEntry
from credo.customers.models import Contact, CustomerEvent
from credo.lending import eod

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")


def at(hh, mm, day=3):
    return dt.datetime(2026, 3, day, hh, mm, tzinfo=SH)


@pytest.fixture
def case(loan, junior):
    borrower = loan.customer
    borrower.phone = "13800138000"
    borrower.save()
    Contact.objects.create(customer=borrower, name="李四", title="财务", phone="13900139000")
    eod.run_eod(dt.date(2026, 2, 20))
    return CollectionCase.objects.get(loan=loan)


def third_key(case):
    return f"contact:{Contact.objects.get(customer=case.customer).pk}"


def log(case, actor, now, **kw):
    args = {"target": "borrower", "channel": "call", "outcome": "no_answer"} | kw
    return services.contact_log(case=case, actor=actor, now=now, **args)


def assert_blocked(case, actor, now, rule, **kw):
    attempts = ContactAttempt.objects.count()
    events = CustomerEvent.objects.filter(kind="collection").count()
    logs = ComplianceLog.objects.filter(rule=rule).count()
    with pytest.raises(GuardrailViolation) as exc:
        log(case, actor, now, **kw)
    assert exc.value.rule == rule and "合规限制" in exc.value.message
    assert ContactAttempt.objects.count() == attempts
    assert CustomerEvent.objects.filter(kind="collection").count() == events
    assert ComplianceLog.objects.filter(rule=rule).count() == logs + 1
    assert (
        AuditEntry.objects.filter(action="collections.blocked", metadata__rule=rule).count()
        == logs + 1
    )


@pytest.mark.parametrize(
    "hh,mm,allowed", [(21, 59, True), (22, 0, False), (7, 59, False), (8, 0, True), (3, 0, False)]
)
def test_quiet_hours(case, junior, hh, mm, allowed):
    if allowed:
        attempt = log(case, junior, at(hh, mm))
        assert (
            attempt.pk
            and CustomerEvent.objects.filter(kind="collection", title__contains="无人接听").exists()
        )
    else:
        assert_blocked(case, junior, at(hh, mm), "quiet_hours")
        assert_blocked(case, junior, at(hh, mm), "quiet_hours", channel="visit")


def test_quiet_hours_configurable(case, junior, settings):
    settings.CREDO_COLLECTION_QUIET_HOURS = "21:00-09:00"
    assert_blocked(case, junior, at(21, 30), "quiet_hours")
    assert_blocked(case, junior, at(8, 30), "quiet_hours")
    assert log(case, junior, at(9, 0)).pk


def test_daily_cap_per_number(case, junior, junior2):
    for i in range(6):
        log(case, junior, at(9, i))
    assert_blocked(case, junior, at(10, 0), "daily_cap")
    assert_blocked(case, junior2, at(10, 1), "daily_cap")  # per number, not per collector
    assert log(case, junior, at(10, 2), channel="wechat").pk  # the cap counts calls
    assert log(case, junior, at(9, 0, day=4)).pk  # a new day


def test_daily_cap_configurable(case, junior, settings):
    settings.CREDO_COLLECTION_DAILY_CAP = 2
    log(case, junior, at(9, 0))
    log(case, junior, at(9, 1))
    assert_blocked(case, junior, at(9, 2), "daily_cap")


def test_third_party_only_after_three_borrower_failures(case, junior):
    tp = third_key(case)
    assert_blocked(case, junior, at(9, 0), "third_party", target=tp, outcome="relayed")
    log(case, junior, at(9, 1), outcome="no_answer")
    log(case, junior, at(9, 2), outcome="refused")  # reached: not a failure
    log(case, junior, at(9, 3), outcome="powered_off")
    assert_blocked(case, junior, at(9, 4), "third_party", target=tp, outcome="relayed")
    log(case, junior, at(9, 5), outcome="invalid")
    attempt = log(case, junior, at(9, 6), target=tp, outcome="relayed")
    assert attempt.party == "third_party" and attempt.party_name == "李四"


def test_third_party_sms_has_no_debt_details(case, junior):
    for i in range(3):
        log(case, junior, at(9, i), outcome="no_answer")
    attempt = log(case, junior, at(9, 5), target=third_key(case), channel="sms", outcome="relayed")
    text = services.third_party_message(case=case, contact_name="李四")
    assert text in attempt.notes
    loan = case.loan
    for secret in (loan.number, "逾期", "元", "欠", str(loan.outstanding_principal)):
        assert secret not in text
    # the notify template for third parties has no money / loan variables either
    from credo.notify.services import registered_templates

    body = registered_templates()["collections.third_party"].body
    for var in ("amount", "loan_number", "dpd", "逾期", "元"):
        assert var not in body


def test_contact_form_has_no_amount_fields(case):
    form = ContactForm(targets=services.contact_targets(case))
    assert set(form.fields) == {"target", "channel", "outcome", "notes"}


def test_do_not_contact_blocks_calls_and_sms(case, junior):
    services.dnc_create(case=case, target="borrower", reason="客户要求仅书面联系", actor=junior)
    assert_blocked(case, junior, at(10, 0), "do_not_contact")
    assert_blocked(case, junior, at(10, 1), "do_not_contact", channel="sms")
    assert log(case, junior, at(10, 2), channel="visit").pk  # visits are not covered


def test_do_not_contact_whole_customer(case, junior):
    for i in range(3):
        log(case, junior, at(9, i))
    services.dnc_create(case=case, target="all", reason="投诉", actor=junior)
    assert_blocked(
        case, junior, at(10, 0), "do_not_contact", target=third_key(case), outcome="relayed"
    )


def test_dnc_requires_reason(case, junior):
    from credo.collections.errors import InvalidInput

    with pytest.raises(InvalidInput):
        services.dnc_create(case=case, target="all", reason=" ", actor=junior)


def test_relayed_outcome_only_for_third_party(case, junior):
    from credo.collections.errors import InvalidInput

    with pytest.raises(InvalidInput):
        log(case, junior, at(10, 0), outcome="relayed")
    assert not ContactAttempt.objects.exists()
