"""Marketing consent honoured by the notification guardrails: marketing (renewal invitations
included) needs a consent in force, a withdrawal stops it at once, collection and service
messages follow their own legal basis; one query per batch, whatever its size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from credo.core.audit.models import AuditEntry
from credo.customers import services as customer_services
from credo.customers.models import Customer
from credo.notify.models import MarketingConsent, Message
from credo.notify.services import Notice, notify_many
from credo.privacy import services
from tests.notify.conftest import _notify_settings, at  # noqa: F401  (autouse fixture)
from tests.notify.test_services import CTX  # registers test.reminder

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _consent_required(settings):
    settings.CREDO_MARKETING_CONSENT_REQUIRED = True


def N(customer) -> Notice:  # noqa: N802
    return Notice(template="test.reminder", context=CTX, customer=customer)


def _customers(owner, make, numbers):
    made = [customer_services.customer_create(actor=owner, data=make(n)) for n in numbers]
    return list(
        Customer.objects.only("id", "phone", "risk_flags")
        .filter(pk__in=[c.pk for c in made])
        .order_by("id")
    )


def _consent(customer, channel="", withdrawn=False):
    now = timezone.now()
    return MarketingConsent.objects.create(
        customer_id=customer.pk,
        channel=channel,
        source="paper",
        granted_at=now,
        withdrawn_at=now if withdrawn else None,
    )


@pytest.fixture
def four(owner, individual_data_factory):
    """consented (all channels), withdrawn, never asked, consented to e-mail only."""
    cs = _customers(owner, individual_data_factory, (31, 32, 33, 34))
    _consent(cs[0])
    _consent(cs[1], withdrawn=True)
    _consent(cs[3], channel="email")
    return cs


def _status(customer):
    return sorted(Message.objects.filter(customer_id=customer.pk).values_list("kind", "status"))


def test_marketing_needs_consent_in_force(four):
    result = notify_many([N(c) for c in four], category="marketing", now=at(10))
    assert ("sms", "queued") in _status(four[0])
    assert _status(four[1]) == [("sms", "suppressed")]
    assert _status(four[2]) == [("sms", "suppressed")]
    assert _status(four[3]) == [("sms", "suppressed")]  # consent covers e-mail, not SMS
    assert result.suppressed_by_reason.get("no_consent") == 3
    msg = Message.objects.get(customer_id=four[2].pk)
    assert "营销" in msg.last_error or msg.status == "suppressed"


def test_collection_and_service_messages_do_not_need_consent(four):
    for category in ("collection", "service"):
        Message.objects.all().delete()
        result = notify_many([N(c) for c in four], category=category, now=at(10))
        assert result.suppressed_by_reason.get("no_consent") is None
        assert all(("sms", "queued") in _status(c) for c in four)


def test_without_required_consent_only_a_withdrawal_stops_marketing(settings, four):
    settings.CREDO_MARKETING_CONSENT_REQUIRED = False
    result = notify_many([N(c) for c in four], category="marketing", now=at(10))
    assert _status(four[1]) == [("sms", "suppressed")]
    assert ("sms", "queued") in _status(four[2])
    assert result.suppressed_by_reason == {"no_consent": 1}


def test_withdrawal_through_the_service_is_honoured_at_once(owner, individual_data_factory):
    from tests.factories import UserFactory

    [c] = _customers(owner, individual_data_factory, (41,))
    from credo.accounts.models import Role
    from credo.accounts.roles import ensure_default_roles

    ensure_default_roles()
    dpo = UserFactory(username="dpo2", roles=[Role.objects.get(code="privacy_officer")])
    consent = services.consent_record(actor=dpo, customer=c, source="phone")
    notify_many([N(c)], category="marketing", now=at(10))
    assert _status(c) == [("sms", "queued")]
    services.consent_withdraw(actor=dpo, consent=consent)
    notify_many([N(c)], category="marketing", now=at(11))
    assert sorted(s for _k, s in _status(c)) == ["queued", "suppressed"]
    assert AuditEntry.objects.filter(action="privacy.consent_withdraw").count() == 1
    assert MarketingConsent.objects.get(pk=consent.pk).withdrawn_at is not None


def test_consent_check_is_one_query_per_batch(owner, individual_data_factory):
    cs = _customers(owner, individual_data_factory, range(50, 62))
    for i, c in enumerate(cs):
        _consent(c, withdrawn=bool(i % 3 == 0))
    notify_many([N(cs[0])], category="marketing", now=at(9))  # templates, channels installed

    def queries(batch, hour):
        with CaptureQueriesContext(connection) as ctx:
            notify_many([N(c) for c in batch], category="marketing", now=at(hour))
        return len(ctx.captured_queries)

    # both batches hold consented and withdrawn recipients (suppressions write one audit row)
    assert queries(cs[1:4], 10) == queries(cs[4:12], 11)
    consent_queries = [q for q in ctx_queries(cs[1:12]) if "notify_marketingconsent" in q["sql"]]
    assert len(consent_queries) == 1


def ctx_queries(batch):
    with CaptureQueriesContext(connection) as ctx:
        notify_many([N(c) for c in batch], category="marketing", now=at(12))
    return ctx.captured_queries
