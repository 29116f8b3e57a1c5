"""Route preview for the flow designer: which route a sample (or an existing application's
approval elements) takes, which steps apply and who would approve each — nothing is written.

The route decision is evaluated without storing an evaluation, and the whole preview runs in a
transaction that is rolled back (installing a missing default decision model would otherwise be
a write). Approvers are resolved with the engine's own resolver on unsaved rows, so the preview
shows exactly the people the engine would pick when the step opens (the applicant left out);
segregation of duties across steps (whoever decided an earlier step stays away) depends on who
actually decides and is only noted.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from credo.accounts.models import OrgUnit
from credo.approvals import designer, selectors
from credo.approvals.models import ApprovalFlow, ApprovalInstance, FlowVersion
from credo.approvals.services.start import ROUTE_DECISION
from credo.approvals.services.steps import _resolve
from credo.rules.errors import RuleError
from credo.rules.services import evaluate


def sample_instances(flow: ApprovalFlow, user: Any) -> QuerySet[ApprovalInstance]:
    """Approvals of this flow (any version) in the user's data scope: their recorded approval
    elements are the "existing application" a preview can replay."""
    return (
        selectors.instances_for(user)
        .filter(flow_version__flow=flow)
        .select_related("owner__org_unit__parent")
        .order_by("-id")
    )


def _names(users: list[Any]) -> list[str]:
    return [str(u) for u in users]


def route_preview(
    *,
    version: FlowVersion,
    definition: dict[str, Any],
    context: dict[str, Any],
    applicant: Any = None,
) -> dict[str, Any]:
    """The route of ``definition`` (the designer's current, possibly unsaved, definition) for
    the approval elements ``context`` (amount in fen, months, product code, risk_grade, branch
    code, applicant_id)."""
    with transaction.atomic():
        try:
            return _preview(version, definition, context, applicant)
        finally:
            transaction.set_rollback(True)


def _preview(
    version: FlowVersion, definition: dict[str, Any], context: dict[str, Any], applicant: Any
) -> dict[str, Any]:
    flow = version.flow
    ctx = dict(context)
    if applicant is not None:
        ctx["applicant_id"] = applicant.pk
    data = {"flow": flow.key, **ctx, "amount_yuan": designer.amount_yuan(ctx.get("amount"))}
    try:
        decision = evaluate(ROUTE_DECISION, data, record=False)
    except RuleError as exc:
        return {"error": _("审批路径选择决策无法执行：%(e)s") % {"e": exc.message}}
    code = str(decision.result.get("route") or "")
    routes = definition.get("routes") or {}
    route = routes.get(code) if isinstance(routes, dict) else None
    out: dict[str, Any] = {
        "code": code,
        "reason": str(decision.result.get("reason") or ""),
        "decision": decision.version_display,
        "data": data,
    }
    if not isinstance(route, dict):
        out["error"] = _(
            "审批路径选择决策给出的路径“%(c)s”在本版本中没有定义，提交时会被拒绝；"
            "请添加编码为 %(c)s 的路径，或修改“审批路径选择”决策。"
        ) % {"c": code}
        return out
    out["name"] = str(route.get("name") or code)
    branch = OrgUnit.objects.filter(code=str(ctx.get("branch") or "")).first()
    if branch is None and applicant is not None:
        branch = applicant.branch
    # unsaved rows: the engine's resolver reads only these attributes
    draft = FlowVersion(flow=flow, number=version.number, definition=definition)
    instance = ApprovalInstance(
        flow_version=draft, context=ctx, owner=applicant, branch=branch, route=code
    )
    steps = []
    for row in designer.plan(route, designer.condition_data(ctx, flow=flow.key)):
        step = row["step"]
        scoped = bool(step.get("branch_scoped"))
        slots = []
        for approver in step.get("approvers") or []:
            slots.append(
                {
                    "approver": approver,
                    "users": _names(_resolve(approver, instance, branch_scoped=scoped))
                    if row["applies"]
                    else [],
                }
            )
        escalate = step.get("escalate_to")
        steps.append(
            {
                "number": row["index"] + 1,
                "name": step.get("name"),
                "mode": step.get("mode"),
                "condition": step.get("condition") or "",
                "applies": row["applies"],
                "note": row["note"],
                "slots": slots,
                "nobody": row["applies"] and any(not s["users"] for s in slots),
                "deadline_hours": step.get("deadline_hours"),
                "escalate_to": escalate if isinstance(escalate, dict) else None,
                "escalate_users": _names(_resolve(escalate, instance))
                if row["applies"] and isinstance(escalate, dict)
                else [],
            }
        )
    out["steps"] = steps
    out["auto"] = not any(s["applies"] for s in steps)
    return out


def applicant_choices(limit: int = 500) -> list[Any]:
    return list(
        get_user_model()
        .objects.filter(is_active=True)
        .select_related("org_unit")
        .order_by("username")[:limit]
    )
