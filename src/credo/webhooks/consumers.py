"""The webhooks app reads the business event stream through one consumer."""

from __future__ import annotations

from credo.core.events.stream import Event, register_consumer
from credo.webhooks.services import handle_events, subscribed_actions


def _handle(events: list[Event]) -> None:
    handle_events(events)


register_consumer("webhooks", _handle, actions=subscribed_actions)
