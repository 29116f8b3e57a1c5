"""Glue between loan restructuring (lending, below) and the approval flows (approvals, beside
this app): the flow ``lending.restructure``, the submitter lending calls for a new 展期 / 重组 /
借新还旧 request, the outcome listener that approves (and so executes) or rejects it, and the
request's panel on the approval task page. Lending cannot import approvals (layering), so it
exposes :data:`credo.lending.restructure.services.submitters`; this module fills it."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.approvals.defaults import register_flow
from credo.approvals.errors import ApprovalError
from credo.lending.errors import InvalidState
from credo.lending.models import Restructuring

FLOW_KEY = "lending.restructure"
SUBJECT_TYPE = "lending.restructuring"

_STEP_RISK = {
    "name": "风控经理审批",
    "mode": "any",
    "approvers": [{"role": "risk_manager"}],
    "deadline_hours": 48,
    "escalate_to": {"role": "credit_committee"},
    "max_amount": None,
}
# Routed by the shared ``approvals.route`` table on the outstanding principal (no risk grade is
# passed, so a restructuring is never auto-approved; "auto" still has a step in case the table
# is edited to route there).
DEFINITION: dict[str, Any] = {
    "allow_same_approver_across_steps": False,
    "routes": {
        "auto": {"name": "风控审批", "steps": [_STEP_RISK]},
        "standard": {"name": "风控审批", "steps": [_STEP_RISK]},
        "large": {
            "name": "风控审批后贷审会审批",
            "steps": [
                _STEP_RISK,
                {
                    "name": "贷审会审批",
                    "mode": "any",
                    "approvers": [{"role": "credit_committee"}],
                    "deadline_hours": 72,
                    "escalate_to": None,
                    "max_amount": None,
                },
            ],
        },
    },
}


def _loan_url(r: Restructuring) -> str:
    return reverse("lending:loan_detail", args=[r.loan_id])


def submit(r: Restructuring, actor: Any) -> None:
    from credo.approvals.services import approval_start

    loan = r.loan
    try:
        instance = approval_start(
            subject=r,
            flow_key=FLOW_KEY,
            context={
                "amount": loan.outstanding_principal.fen,
                "months": int(r.new_terms.get("months") or 0),
                "kind": r.kind,
                "risk_grade": "",
                "branch": loan.branch.code if loan.branch else "",
                "applicant_id": actor.pk,
            },
            actor=actor,
            title=_("贷款 %(n)s %(k)s：%(c)s 剩余本金 %(amt)s 元")
            % {
                "n": loan.number,
                "k": r.get_kind_display(),
                "c": loan.customer.name,
                "amt": loan.outstanding_principal.format(symbol=False),
            },
            url=_loan_url(r),
        )
    except ApprovalError as exc:
        raise InvalidState(
            _("无法发起审批：%(e)s") % {"e": getattr(exc, "message", str(exc))}
        ) from None
    # the request page links to its approval (lending cannot query approvals itself)
    fresh = Restructuring.objects.get(pk=r.pk)
    fresh.quote = {**fresh.quote, "approval_instance": instance.pk}
    fresh.save(update_fields=["quote"])


def _outcome_actor(instance: Any) -> Any:
    last = instance.actions.filter(actor__isnull=False).select_related("actor").order_by("-id")
    action = last.first()
    return action.actor if action is not None else None


def on_outcome(instance: Any, outcome: str) -> None:
    from credo.lending.restructure import services

    r = Restructuring.objects.filter(pk=instance.subject_id).first()
    if r is None or r.status != Restructuring.Status.REQUESTED:
        return
    actor = _outcome_actor(instance)
    if outcome == "approved":
        services.restructuring_approve(restructuring=r, actor=actor, via_flow=True)
    elif outcome == "rejected":
        services.restructuring_reject(restructuring=r, actor=actor, via_flow=True)


def render_panel(request: Any, instance: Any) -> str:
    from credo.lending import selectors
    from credo.lending.restructure.views import class_label

    user = request.user
    if not user.has_perm("lending.view_loan"):
        return ""
    r = Restructuring.objects.filter(pk=instance.subject_id).select_related("loan").first()
    if r is None or not selectors.loans_for(user).filter(pk=r.loan_id).exists():
        return ""
    return render_to_string(
        "lending/restructure/_approval_panel.html",
        {"r": r, "q": r.quote, "class_before": class_label(r.classification_before)},
        request=request,
    )


def register() -> None:
    from credo.approvals.panels import register_subject_panel
    from credo.approvals.services import register_outcome_listener
    from credo.lending.restructure.services import submitters

    register_flow(FLOW_KEY, gettext_lazy("贷款展期/重组审批"), DEFINITION)
    register_outcome_listener(FLOW_KEY, on_outcome)
    register_subject_panel(SUBJECT_TYPE, render_panel)
    submitters.register("approval", submit)
