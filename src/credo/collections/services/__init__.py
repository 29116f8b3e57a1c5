"""Collections services: reminders, the after-EOD case batch, contacts under compliance
guardrails, promises to pay, do-not-contact, reassignment, scripts and lawyer's letters.

One module per use-case group; this package re-exports the services used from outside it."""

from credo.collections.services.assignment import case_reassign, script_for, script_update
from credo.collections.services.cases import cases_refresh, overdue_amount, overdue_amounts
from credo.collections.services.contacts import (
    contact_log,
    contact_targets,
    dnc_create,
    third_party_message,
)
from credo.collections.services.letters import letter_pdf
from credo.collections.services.promises import promise_create, promises_check
from credo.collections.services.reminders import (
    register_templates,
    reminder_offsets,
    reminders_due,
    reminders_run,
    reminders_send,
    send_notices,
)

__all__ = [
    "case_reassign",
    "cases_refresh",
    "contact_log",
    "contact_targets",
    "dnc_create",
    "letter_pdf",
    "overdue_amount",
    "overdue_amounts",
    "promise_create",
    "promises_check",
    "register_templates",
    "reminder_offsets",
    "reminders_due",
    "reminders_run",
    "reminders_send",
    "script_for",
    "script_update",
    "send_notices",
    "third_party_message",
]
