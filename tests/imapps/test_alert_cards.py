"""A raised monitoring alert becomes a card to its assignee (the ``monitoring.alert_raised``
event); the alert's own todo is bulk-written (no ``todo.create``), so exactly one card."""

from __future__ import annotations

import pytest

from credo.core.events.stream import events_pump
from credo.imapps.models import Identity
from credo.notify.models import Message
from credo.notify.services.sending import send_one
from credo.rules.services import ensure_defaults
from tests.monitoring.conftest import customer_factory, loan_factory, pv, risk_manager  # noqa: F401
from tests.monitoring.test_pushed_alerts import _loan, _raise

pytestmark = pytest.mark.django_db


def test_alert_card_to_assignee(wecom, fake, customer_factory, loan_factory, risk_manager):  # noqa: F811
    ensure_defaults()
    events_pump()
    Identity.objects.create(platform="wecom", external_id="rm01", user=risk_manager)
    alert = _raise(_loan(customer_factory, loan_factory), "high")
    assert alert.assignee == risk_manager
    events_pump()
    cards = Message.objects.filter(template_code="imapps.card")
    assert cards.count() == 1
    card = cards.get()
    assert card.address == "rm01" and card.url == f"http://credo.test/monitoring/alerts/{alert.pk}/"
    assert send_one(card.pk) == "sent"
    sent = fake.sent[-1]
    assert sent["touser"] == "rm01" and sent["textcard"]["title"].startswith("风险预警：")


def test_no_card_where_the_push_policy_keeps_the_alert_in_the_inbox(
    wecom,
    customer_factory,  # noqa: F811
    loan_factory,  # noqa: F811
    risk_manager,  # noqa: F811
):
    """A low alert is pushed to the inbox only (the shipped policy): no personal card."""
    ensure_defaults()
    events_pump()
    Identity.objects.create(platform="wecom", external_id="rm01", user=risk_manager)
    alert = _raise(_loan(customer_factory, loan_factory), "low")
    assert alert.assignee == risk_manager and alert.pushed_at is not None
    events_pump()
    assert not Message.objects.filter(template_code="imapps.card").exists()
