"""Follow-ups and stage changes."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.todo.services import todo_cancel_by_key
from credo.leads.errors import InvalidLead, InvalidTransition
from credo.leads.models import FollowUp, Lead
from credo.leads.services.common import (
    _is_user,
    _set_owner,
    _set_stage,
    _upsert_todo,
    todo_key,
)
from credo.leads.states import TRANSITIONS


@transaction.atomic
def followup_add(
    *,
    lead: Lead,
    actor: Any,
    kind: str,
    outcome: str,
    notes: str = "",
    next_step: str = "",
    next_date: dt.date | None = None,
) -> FollowUp:
    """Log a call/visit/WeChat; the next date becomes the owner's todo; a new lead becomes
    contacted."""
    errors = {}
    if kind not in FollowUp.Kind.values:
        errors["kind"] = _("请选择跟进方式。")
    outcome = (outcome or "").strip()
    if not outcome:
        errors["outcome"] = _("请填写跟进结果。")
    if next_date is not None and next_date < clock.today():
        errors["next_date"] = _("下次跟进日期不能早于今天。")
    if errors:
        raise InvalidLead(_("跟进记录有误。"), field_errors=errors)
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if not locked.is_open:
        raise InvalidTransition(_("线索已关闭，不能再添加跟进。"))
    follow_up = FollowUp.objects.create(
        lead=locked,
        kind=kind,
        outcome=outcome[:200],
        notes=notes,
        next_step=(next_step or "")[:200],
        next_date=next_date,
        actor=actor if _is_user(actor) else None,
    )
    old_stage = locked.stage
    if locked.stage == Lead.Stage.NEW:
        _set_stage(locked, Lead.Stage.CONTACTED, timezone.now())
    locked.next_follow_up = next_date
    if locked.owner is None and _is_user(actor):
        _set_owner(locked, actor, timezone.now())
    locked.save()
    audit_record(
        action="lead.follow_up",
        actor=actor,
        obj=locked,
        changes={"stage": [old_stage, locked.stage]} if old_stage != locked.stage else {},
        metadata={"follow_up": follow_up.pk, "kind": kind, "next_date": str(next_date or "")},
    )
    if locked.owner is not None:
        if next_date is not None:
            _upsert_todo(locked, actor=actor, next_step=next_step)
        else:
            todo_cancel_by_key(user=locked.owner, dedupe_key=todo_key(locked), actor=actor)
    return follow_up


@transaction.atomic
def lead_change_stage(*, lead: Lead, stage: str, actor: Any, reason: str = "") -> Lead:
    """Move along new → contacted → qualified, or to lost (reason required). Converted is only
    reached by :func:`lead_convert`. A refused move changes nothing."""
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if stage not in Lead.Stage.values:
        raise InvalidTransition(_("未知的阶段：%(s)s") % {"s": stage})
    if stage == locked.stage:
        return locked
    if stage == Lead.Stage.CONVERTED:
        raise InvalidTransition(_("请使用“转化为客户”操作完成转化。"))
    if stage not in TRANSITIONS[locked.stage]:
        raise InvalidTransition(
            _("不能从“%(a)s”变更为“%(b)s”。")
            % {"a": locked.get_stage_display(), "b": Lead.Stage(stage).label}
        )
    reason = (reason or "").strip()
    if stage == Lead.Stage.LOST and not reason:
        raise InvalidTransition(
            _("标记为流失必须填写原因。"), field_errors={"reason": _("请填写流失原因。")}
        )
    old = locked.stage
    _set_stage(locked, stage, timezone.now())
    if stage == Lead.Stage.LOST:
        locked.lost_reason = reason[:200]
        locked.next_follow_up = None
    locked.save()
    audit_record(
        action="lead.stage",
        actor=actor,
        obj=locked,
        changes={"stage": [old, stage]},
        metadata={"reason": reason} if reason else {},
    )
    if stage == Lead.Stage.LOST and locked.owner is not None:
        todo_cancel_by_key(user=locked.owner, dedupe_key=todo_key(locked), actor=actor)
    return locked
