"""Handing a departing employee's book to someone else."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.core.todo.services import todo_cancel_by_key
from credo.customers.models import Customer
from credo.leads.errors import LeadError
from credo.leads.models import Lead
from credo.leads.services.common import (
    _set_owner,
    _upsert_todo,
    todo_key,
)


# --- departing employee --------------------------------------------------------------------------
def book_of(user: Any) -> tuple[QuerySet[Lead], QuerySet[Customer]]:
    """The open leads and the customers owned by ``user`` (what a hand-over moves)."""
    leads = Lead.objects.filter(owner=user, stage__in=Lead.OPEN_STAGES).order_by("id")
    customers = Customer.objects.filter(owner=user).order_by("id")
    return leads, customers


@transaction.atomic
def book_reassign(*, from_user: Any, to_user: Any, actor: Any) -> dict[str, int]:
    """Hand a departing employee's whole book (open leads and customers) to ``to_user``."""
    from credo.customers.services import customer_reassign

    if from_user.pk == to_user.pk:
        raise LeadError(_("移交对象不能是同一个人。"))
    if not to_user.is_active:
        raise LeadError(_("接收人已停用。"))
    leads, customers = book_of(from_user)
    lead_list = list(leads.select_for_update())
    now = timezone.now()
    for lead in lead_list:
        _set_owner(lead, to_user, now)
        lead.assignment_info = {**lead.assignment_info, "note": "handover"}
    Lead.objects.bulk_update(
        lead_list, ["owner", "team", "branch", "assigned_at", "assignment_info"]
    )
    for lead in lead_list:
        todo_cancel_by_key(user=from_user, dedupe_key=todo_key(lead))
        if lead.next_follow_up:
            _upsert_todo(lead, actor=actor)
    customer_count = 0
    for customer in customers:
        customer_reassign(customer=customer, new_owner=to_user, actor=actor)
        customer_count += 1
    counts = {"leads": len(lead_list), "customers": customer_count}
    audit_record(
        action="lead.book_reassign",
        actor=actor,
        obj=to_user,
        changes={"owner": [str(from_user), str(to_user)]},
        metadata={**counts, "lead_ids": [lead.pk for lead in lead_list][:1000]},
    )
    return counts
