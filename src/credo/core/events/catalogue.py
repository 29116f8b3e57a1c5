"""The documented catalogue of business events.

Each entry names an audit ``action`` that is a business event (``loan.repayment``,
``customer.create`` …), with the Chinese label an administrator picks from, the record type it
is about (``object_type`` = the audit row's ``app_label.model``), a group for the pickers and the
payload fields worth filtering on. Apps register their own entries (``ready()`` or a module it
imports); automations and webhook subscriptions offer exactly this list, and
``docs/automations.md`` prints it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from credo.core.registry import Registry


@dataclass(frozen=True)
class EventType:
    key: str  # the audit action, e.g. "loan.repayment"
    label: Any  # lazy Chinese label, e.g. _("还款入账")
    object_type: str  # "lending.loan" (app_label.model_name, as audit rows store it)
    group: Any = ""  # picker group, e.g. _("贷款")
    description: Any = ""
    fields: tuple[str, ...] = ()  # change/metadata keys worth filtering on

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": str(self.label),
            "object_type": self.object_type,
            "group": str(self.group),
            "description": str(self.description),
            "fields": list(self.fields),
        }


#: audit action → event type. ``keep``: an app's ``ready()`` may run twice in tests.
event_types: Registry[EventType] = Registry("event types", on_duplicate="keep")


def register_event(
    key: str,
    label: Any,
    object_type: str,
    *,
    group: Any = "",
    description: Any = "",
    fields: tuple[str, ...] = (),
) -> EventType:
    return event_types.register(
        key, EventType(key, label, object_type, group, description, tuple(fields))
    )


def event_label(key: str) -> str:
    """The Chinese label of an event type, or the key itself for an unregistered action."""
    et = event_types.get(key)
    return str(et.label) if et is not None else key


def catalogue() -> list[dict[str, Any]]:
    """The catalogue as plain rows (API, docs, pickers), grouped then by key."""
    return sorted((et.as_dict() for et in event_types), key=lambda r: (r["group"], r["key"]))
