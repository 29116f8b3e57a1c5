"""What the lead services share: constants, todo keys, owner and stage helpers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from credo.core import fsm
from credo.core.todo.services import todo_cancel_by_key, todo_create
from credo.leads import states  # noqa: F401 — registers the stage machine
from credo.leads.models import Lead

DECISION_KEY = "leads.assignment"
DUPLICATE_WINDOW = dt.timedelta(days=90)
MERGED_REASON = "重复"

_MILESTONE: dict[str, str] = {
    Lead.Stage.CONTACTED: "contacted_at",
    Lead.Stage.QUALIFIED: "qualified_at",
    Lead.Stage.CONVERTED: "converted_at",
    Lead.Stage.LOST: "lost_at",
}


def todo_key(lead: Lead) -> str:
    return f"lead-followup:{lead.pk}"


def lead_url(lead: Lead) -> str:
    return reverse("leads:detail", args=[lead.pk])


def _is_user(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False))


def _set_owner(lead: Lead, user: Any, at: dt.datetime) -> None:
    lead.owner = user
    lead.team = user.team or lead.team
    lead.branch = user.branch or (lead.team.branch if lead.team else None)
    lead.assigned_at = at


def _set_stage(lead: Lead, stage: str, at: dt.datetime) -> None:
    """Move ``lead`` (in memory; the caller saves) along :data:`states.LEAD_MACHINE` and stamp
    the milestones. Raises :class:`fsm.TransitionRefused` for a move the table does not allow."""
    fsm.transition(lead, stage, field="stage", save=False)
    # Reaching a later stage implies the earlier ones (the funnel counts "reached").
    order: list[str] = [Lead.Stage.CONTACTED, Lead.Stage.QUALIFIED]
    if stage in order:
        for s in order[: order.index(stage) + 1]:
            if getattr(lead, _MILESTONE[s]) is None:
                setattr(lead, _MILESTONE[s], at)
    elif stage in _MILESTONE:
        setattr(lead, _MILESTONE[stage], at)
        if stage == Lead.Stage.CONVERTED:
            for s in order:
                if getattr(lead, _MILESTONE[s]) is None:
                    setattr(lead, _MILESTONE[s], at)


def _move_todo(lead: Lead, old_owner: Any) -> None:
    if old_owner is not None and old_owner != lead.owner:
        todo_cancel_by_key(user=old_owner, dedupe_key=todo_key(lead))
        if lead.next_follow_up and lead.owner is not None:
            _upsert_todo(lead, actor=None)


def _upsert_todo(lead: Lead, *, actor: Any, next_step: str = "") -> None:
    todo_create(
        user=lead.owner,
        title=_("跟进线索：%(name)s") % {"name": lead.name},
        description=next_step,
        due_date=lead.next_follow_up,
        url=lead_url(lead),
        source="leads",
        dedupe_key=todo_key(lead),
        actor=actor,
    )
