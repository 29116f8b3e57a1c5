"""Creating and editing leads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.leads.cleaning import clean_lead
from credo.leads.errors import InvalidLead
from credo.leads.models import Lead
from credo.leads.services.assign import lead_assign
from credo.leads.services.common import (
    _is_user,
    _set_owner,
)
from credo.leads.services.duplicates import find_original


# --- create / update -----------------------------------------------------------------------------
@transaction.atomic
def lead_create(
    *,
    actor: Any,
    data: Mapping[str, Any],
    owner: Any = None,
    via: str = "manual",
    assign: bool = True,
) -> Lead:
    """Create a lead from raw input; flags a duplicate of an earlier lead (same phone/USCC in
    90 days); assigns it by the rules unless ``owner`` is given or ``assign`` is False."""
    values, errors = clean_lead(data)
    if errors:
        raise InvalidLead(_("线索信息有误，请检查标出的字段。"), field_errors=errors)
    lead = Lead(**values, created_by=actor if _is_user(actor) else None)
    original = find_original(phone=values.get("phone", ""), uscc=values.get("uscc", ""))
    if original is not None:
        lead.duplicate_of, lead.is_duplicate = original, True
    if owner is not None:
        _set_owner(lead, owner, timezone.now())
        lead.assignment_info = {"note": "manual"}
    lead.save()
    audit_record(
        action="lead.create",
        actor=actor,
        obj=lead,
        changes={k: [None, str(v)] for k, v in values.items() if v not in (None, "")},
        metadata={"via": via, "duplicate_of": original.pk if original else None},
    )
    if owner is None and assign:
        lead_assign(lead=lead, actor=actor)
        lead.refresh_from_db()
    return lead


@transaction.atomic
def lead_update(*, lead: Lead, actor: Any, data: Mapping[str, Any]) -> Lead:
    values, errors = clean_lead(data, partial=True)
    if errors:
        raise InvalidLead(_("线索信息有误，请检查标出的字段。"), field_errors=errors)
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    changes = {}
    for key, value in values.items():
        old = getattr(locked, key)
        if old != value:
            changes[key] = [str(old) if old is not None else None, str(value)]
            setattr(locked, key, value)
    if changes:
        locked.save()
        audit_record(action="lead.update", actor=actor, obj=locked, changes=changes)
    return locked
