"""Start an approval: route the subject and open the first step."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.models import OrgUnit
from credo.approvals.errors import InvalidDefinition, InvalidState
from credo.approvals.models import ApprovalAction, ApprovalFlow, ApprovalInstance, FlowVersion
from credo.approvals.services.flows import ensure_flow
from credo.approvals.services.listeners import _jsonable, _timeline
from credo.approvals.services.steps import _finish, _log, _open_from
from credo.approvals.states import ACTIVE_STATES
from credo.core.audit.services import audit_record
from credo.core.money import fen_to_yuan, whole_yuan
from credo.rules.services import evaluate

ROUTE_DECISION = "approvals.route"


def _amount_yuan(amount: Any) -> int | float:
    fen = int(amount or 0)
    # the route table compares yuan; whole yuan stay integers, cents need the fraction
    return whole_yuan(fen) if fen % 100 == 0 else float(fen_to_yuan(fen))


def _user(pk: Any) -> Any:
    if pk in (None, ""):
        return None
    try:
        return get_user_model().objects.filter(pk=int(pk)).first()
    except (TypeError, ValueError):
        return None


def approval_start(
    *, subject: Any, flow_key: str, context: dict[str, Any], actor: Any, title: str, url: str = ""
) -> ApprovalInstance:
    """Route the subject with the ``approvals.route`` decision and start the pinned flow version.
    A route without steps (the shipped ``auto`` route) approves at once."""
    ensure_flow(flow_key)
    ctx = _jsonable(dict(context or {}))
    subject_type = subject._meta.label_lower
    subject_id = str(subject.pk)
    now = timezone.now()
    with transaction.atomic():
        flow = ApprovalFlow.objects.select_for_update().get(key=flow_key)
        version = flow.versions.filter(status=FlowVersion.Status.PUBLISHED).first()
        if version is None:
            raise InvalidState(_("审批流 %(k)s 没有已发布的版本。") % {"k": flow_key})
        running = ApprovalInstance.objects.filter(
            subject_type=subject_type, subject_id=subject_id, status__in=ACTIVE_STATES
        )
        if running.exists():
            raise InvalidState(_("该业务已有进行中的审批，不能重复发起。"))
        data = {"flow": flow_key, **ctx, "amount_yuan": _amount_yuan(ctx.get("amount"))}
        decision = evaluate(ROUTE_DECISION, data, subject=subject)
        code = str(decision.result.get("route") or "")
        route = version.route(code)
        if route is None:
            raise InvalidDefinition(
                _("审批路径“%(c)s”未在审批流 %(k)s v%(n)d 中定义。")
                % {"c": code, "k": flow_key, "n": version.number}
            )
        owner = _user(ctx.get("applicant_id")) or actor
        branch = None
        if ctx.get("branch"):
            branch = OrgUnit.objects.filter(code=str(ctx["branch"])).first()
        if branch is None and owner is not None:
            branch = owner.branch
        instance = ApprovalInstance.objects.create(
            flow_version=version,
            subject_type=subject_type,
            subject_id=subject_id,
            title=(title or str(subject))[:200],
            url=url[:500],
            context=ctx,
            route=code,
            route_name=str(route.get("name") or code)[:120],
            route_reason=str(decision.result.get("reason") or "")[:300],
            route_evaluation=decision.evaluation,
            owner=owner,
            team=owner.team if owner is not None else None,
            branch=branch,
            subject_creator_id=_creator_of(subject),
            started_by=actor,
            started_at=now,
        )
        _log(
            instance,
            ApprovalAction.Kind.START,
            actor=actor,
            amount=ctx.get("amount") if isinstance(ctx.get("amount"), int) else None,
            months=ctx.get("months") if isinstance(ctx.get("months"), int) else None,
            now=now,
            detail={
                "route": code,
                "reason": instance.route_reason,
                "decision": decision.version_label,
                "reasons": decision.reasons,
                "flow_version": version.number,
            },
        )
        audit_record(
            action="approval.start",
            actor=actor,
            obj=instance,
            metadata={
                "flow": flow_key,
                "flow_version": version.number,
                "route": code,
                "decision": decision.version_label,
                "subject": f"{subject_type}#{subject_id}",
            },
        )
        _timeline(
            instance,
            _("发起审批（%(r)s）：%(t)s") % {"r": instance.route_name, "t": instance.title},
            actor,
            {"route": code, "reason": instance.route_reason},
        )
        # a route without (applicable) steps approves at once; the shipped "auto" route has
        # none, and steps a lender adds to it in the designer are honoured
        if not instance.steps:
            _log(instance, ApprovalAction.Kind.AUTO, comment=instance.route_reason, now=now)
            _finish(instance, ApprovalInstance.Status.APPROVED, actor=None, now=now)
        else:
            _open_from(instance, 0, actor=None, now=now)
    return instance


def _creator_of(subject: Any) -> int | None:
    """The subject's creator when its model records one (``created_by``), for segregation of
    duties."""
    value = getattr(subject, "created_by_id", None)
    return value if isinstance(value, int) else None
