"""Every write to leads: keyword-only, one transaction, audited.

Submodules by use case — ``create`` (create, update), ``duplicates``, ``assign`` (by the rules,
in bulk, by hand; assignee limits), ``stages`` (follow-ups, stage changes), ``conversion``
(merge, convert to a customer), ``handover`` (a departing employee's book) and ``webform``
(public form counters, follow-up reminders); ``common`` holds what they share. Stage changes go
through the table in :mod:`credo.leads.states`. This package re-exports the public services.
"""

from __future__ import annotations

from credo.leads.services.assign import (
    assign_unassigned,
    assignee_configure,
    lead_assign,
    lead_assign_to,
    leads_assign_bulk,
)
from credo.leads.services.common import (
    DECISION_KEY,
    DUPLICATE_WINDOW,
    MERGED_REASON,
    lead_url,
    todo_key,
)
from credo.leads.services.conversion import lead_convert, lead_merge
from credo.leads.services.create import lead_create, lead_update
from credo.leads.services.duplicates import find_customer, find_original
from credo.leads.services.handover import book_of, book_reassign
from credo.leads.services.stages import followup_add, lead_change_stage
from credo.leads.services.webform import follow_up_reminders_send, webform_count
from credo.leads.states import TRANSITIONS

__all__ = [
    "DECISION_KEY",
    "DUPLICATE_WINDOW",
    "MERGED_REASON",
    "TRANSITIONS",
    "assign_unassigned",
    "assignee_configure",
    "book_of",
    "book_reassign",
    "find_customer",
    "find_original",
    "follow_up_reminders_send",
    "followup_add",
    "lead_assign",
    "lead_assign_to",
    "lead_change_stage",
    "lead_convert",
    "lead_create",
    "lead_merge",
    "lead_update",
    "leads_assign_bulk",
    "lead_url",
    "todo_key",
    "webform_count",
]
