"""Merging a duplicate into its original; converting a lead to a customer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.core.todo.services import todo_cancel_by_key
from credo.customers.errors import CustomerError
from credo.customers.models import Customer
from credo.leads.errors import InvalidLead, InvalidTransition, LeadError
from credo.leads.models import FollowUp, Lead
from credo.leads.services.common import (
    MERGED_REASON,
    _set_stage,
    todo_key,
)
from credo.leads.services.duplicates import find_customer


# --- merge / conversion --------------------------------------------------------------------------
@transaction.atomic
def lead_merge(*, lead: Lead, actor: Any) -> Lead:
    """Merge a flagged duplicate into its original: follow-ups move, the duplicate is closed as
    lost with reason “重复”. Returns the original."""
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if not locked.is_duplicate or locked.duplicate_of_id is None:
        raise LeadError(_("该线索未被标记为重复，无法合并。"))
    if not locked.is_open:
        raise InvalidTransition(_("线索已关闭，不能合并。"))
    original = Lead.objects.select_for_update().get(pk=locked.duplicate_of_id)
    moved = FollowUp.objects.filter(lead=locked).update(lead=original)
    _set_stage(locked, Lead.Stage.LOST, timezone.now())
    locked.lost_reason = MERGED_REASON
    locked.next_follow_up = None
    locked.save()
    audit_record(
        action="lead.merge",
        actor=actor,
        obj=locked,
        changes={"stage": ["open", Lead.Stage.LOST]},
        metadata={"into": original.pk, "follow_ups_moved": moved},
    )
    if locked.owner is not None:
        todo_cancel_by_key(user=locked.owner, dedupe_key=todo_key(locked), actor=actor)
    return original


@transaction.atomic
def lead_convert(
    *, lead: Lead, actor: Any, data: Mapping[str, Any] | None = None
) -> tuple[Lead, Customer, bool]:
    """Qualified (or any open) lead → customer. Links to the customer that already holds the
    USCC/phone; otherwise creates one (``data`` supplies kind and 身份证号 for individuals).
    The follow-ups are copied onto the customer timeline. Returns (lead, customer, linked)."""
    from credo.customers.events import record_event
    from credo.customers.services import customer_create

    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if not locked.is_open:
        raise InvalidTransition(_("只有未关闭的线索可以转化。"))
    existing = find_customer(locked)
    linked = existing is not None
    if existing is not None:
        customer = existing
    else:
        extra = dict(data or {})
        kind = extra.get("kind") or ("enterprise" if locked.uscc else "individual")
        profile = {
            "kind": kind,
            "name": extra.get("name") or locked.name,
            "uscc": locked.uscc,
            "phone": locked.phone,
            "region_code": locked.region_code,
            "id_number": extra.get("id_number", ""),
            "legal_representative": extra.get("legal_representative", "")
            or (locked.contact_name if kind == "enterprise" else ""),
        }
        try:
            customer = customer_create(
                actor=actor, data=profile, owner=locked.owner or actor, source=_("线索转化")
            )
        except CustomerError as exc:
            raise InvalidLead(exc.message, field_errors=exc.field_errors) from None
    old = locked.stage
    _set_stage(locked, Lead.Stage.CONVERTED, timezone.now())
    locked.customer = customer
    locked.next_follow_up = None
    locked.save()
    for follow_up in locked.follow_ups.select_related("actor").order_by("created_at", "id"):
        record_event(
            customer=customer,
            kind="follow_up",
            title=f"{follow_up.get_kind_display()}：{follow_up.outcome}",
            actor=follow_up.actor,
            detail={
                "notes": follow_up.notes,
                "next_step": follow_up.next_step,
                "next_date": str(follow_up.next_date or ""),
                "lead": locked.pk,
            },
            source="leads",
            obj=follow_up,
            occurred_at=follow_up.created_at,
        )
    record_event(
        customer=customer,
        kind="other",
        title=_("由线索转化（%(source)s）") % {"source": locked.get_source_display()},
        actor=actor,
        detail={"lead": locked.pk, "campaign": locked.campaign, "linked": linked},
        source="leads",
        obj=locked,
    )
    audit_record(
        action="lead.convert",
        actor=actor,
        obj=locked,
        changes={"stage": [old, Lead.Stage.CONVERTED], "customer": [None, customer.pk]},
        metadata={"linked_existing": linked},
    )
    if locked.owner is not None:
        todo_cancel_by_key(user=locked.owner, dedupe_key=todo_key(locked), actor=actor)
    return locked, customer, linked
