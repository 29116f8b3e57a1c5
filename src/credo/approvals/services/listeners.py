"""Outcome listeners, notifications and customer-timeline entries of approvals."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction

from credo.approvals.models import ApprovalInstance
from credo.approvals.selectors import subject_of
from credo.core.registry import Registry
from credo.notify.services import notify

logger = logging.getLogger("credo.approvals")

Listener = Callable[[ApprovalInstance, str], None]
# flow key → the listeners of that flow's outcomes, in registration order
outcome_listeners: Registry[list[Listener]] = Registry("approval outcome listeners")


# --- listeners -----------------------------------------------------------------------------------
def register_outcome_listener(flow_key: str, callback: Listener) -> None:
    """``callback(instance, outcome)`` with outcome approved / rejected / returned, called inside
    the transaction of the deciding action (an exception rolls the action back)."""
    callbacks = outcome_listeners.get(flow_key)
    if callbacks is None:
        callbacks = outcome_listeners.register(flow_key, [])
    if callback not in callbacks:
        callbacks.append(callback)


def unregister_outcome_listener(flow_key: str, callback: Listener) -> None:
    """For tests that register a throw-away listener."""
    callbacks = outcome_listeners.get(flow_key) or []
    if callback in callbacks:
        callbacks.remove(callback)


def _notify(instance: ApprovalInstance, outcome: str) -> None:
    for callback in list(outcome_listeners.get(instance.flow_version.flow.key) or []):
        callback(instance, outcome)


# --- notifications and the customer timeline -----------------------------------------------------
def _jsonable(value: Any) -> Any:
    return json.loads(json.dumps(value, ensure_ascii=False, default=str))


def _customer_of(instance: ApprovalInstance) -> Any:
    """The customer of the subject (a Customer, or anything with a ``customer``), for the
    customer timeline; None when the subject has none."""
    subject = subject_of(instance)
    if subject is None:
        return None
    if subject._meta.label_lower == "customers.customer":
        return subject
    customer = getattr(subject, "customer", None)
    if customer is not None and customer._meta.label_lower == "customers.customer":
        return customer
    return None


def _timeline(instance: ApprovalInstance, title: str, actor: Any, detail: dict[str, Any]) -> None:
    customer = _customer_of(instance)
    if customer is None:
        return
    from credo.customers.events import record_event
    from credo.customers.models import CustomerEvent

    record_event(
        customer=customer,
        kind=CustomerEvent.Kind.DECISION,
        title=title,
        actor=actor,
        obj=instance,
        source="approvals",
        detail=_jsonable(detail),
    )


def _send(template: str, *, user: Any, context: dict[str, Any], url: str, key: str) -> None:
    """In-app notification through the notify app. A failing notification must not undo an
    approval decision, so it runs in its own savepoint and is only logged."""
    if user is None:
        return
    try:
        with transaction.atomic():
            notify(template=template, context=context, user=user, url=url, dedupe_key=key)
    except Exception:  # noqa: BLE001 - see docstring
        logger.warning(
            "approval notification %s to user %s failed", template, user.pk, exc_info=True
        )
