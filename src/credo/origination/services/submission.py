"""Submission (admission rules, scoring, approval start), withdrawal and the answer to an
approver's question."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.customers.models import Customer
from credo.origination import admission, scoring
from credo.origination.errors import (
    InvalidApplication,
    InvalidState,
)
from credo.origination.models import Application, PortalLink
from credo.origination.services.common import (
    FLOW_KEY,
    S,
    _atomic,
    _cancel_return_todo,
    _check_actor,
    _lock,
    _transition,
    application_url,
    logger,
    outstanding_items,
)
from credo.origination.states import WITHDRAWABLE


# --- submit / admission / approval ---------------------------------------------------------------
def application_submit(
    *, application: Application, actor: Any, expected_version: int | None = None
) -> Application:
    _check_actor(application, actor, "origination.submit_application")
    return _submit(application, actor=actor, expected_version=expected_version)


def _risk(customer: Customer) -> tuple[int | None, str]:
    from credo.origination.credit_report import risk_grade

    try:
        score, grade = risk_grade(customer)
    except Exception:  # noqa: BLE001 — the report must never block a submission; routes as ""
        logger.exception("risk_grade failed for customer %s", customer.pk)
        return None, ""
    return (int(score) if score is not None else None), str(grade or "")


def _scorecard(app: Application, admission_input: dict[str, Any]) -> Any:
    """The published scorecard's score of the application (stored with the version), or None
    when no scorecard is published. Scoring never blocks a submission."""
    try:
        with transaction.atomic():
            return scoring.score_application(app, admission_input=dict(admission_input))
    except Exception:  # noqa: BLE001 — scoring never blocks a submission (see docstring)
        logger.exception("scorecard scoring failed for application %s", app.pk)
        return None


def _approvals() -> Any:
    """The approvals services (a function so tests can run a submission without a flow)."""
    from credo.approvals import services as approval_services

    return approval_services


@transaction.atomic
def _submit(
    application: Application,
    *,
    actor: Any,
    expected_version: int | None = None,
    link: PortalLink | None = None,
) -> Application:
    app = _lock(application, expected_version)
    if app.status != S.DRAFT:
        raise InvalidState(_("只有草稿状态的申请可以提交。"))
    missing = outstanding_items(app)
    if missing:
        raise InvalidState(
            _("资料不完整，不能提交：%(items)s。")
            % {"items": "、".join(f"{m['item']}（{m['reason']}）" for m in missing)}
        )
    meta = {"portal_link": link.pk} if link else {}
    # Every open link of the application is used up by the submission (no re-use).
    app.portal_links.filter(used_at__isnull=True, revoked_at__isnull=True).update(
        used_at=timezone.now()
    )
    _transition(
        app,
        S.SUBMITTED,
        actor=actor,
        title=_("提交贷款申请 %(n)s") % {"n": app.number},
        metadata=meta,
        extra_fields={"submitted_at": timezone.now()},
    )
    from credo.origination.services.applications import application_ltv_snapshot

    application_ltv_snapshot(application=app, stage="application", actor=actor)  # 申请时抵押率
    from credo.rules.services import evaluate

    [data] = admission.build_inputs([app])
    scored = _scorecard(app, data)
    data["score"], data["score_grade"] = (scored.score, scored.grade) if scored else (None, "")
    decision = evaluate(admission.KEY, data, subject=app)
    reasons = admission.reasons_of(decision.result)
    passed = admission.passed_of(decision.result)
    app.admission_evaluation = decision.evaluation
    app.admission_passed = passed
    app.admission_reasons = reasons
    if not passed:
        return _transition(
            app,
            S.ADMISSION_REJECTED,
            actor=actor,
            kind="decision",
            title=_("申请 %(n)s 准入未通过：%(r)s")
            % {"n": app.number, "r": "；".join(r["reason"] for r in reasons)},
            detail={"reasons": reasons, "model": decision.version_label},
            metadata={**meta, "model": decision.version_label, "reasons": reasons},
            extra_fields={"decided_at": timezone.now()},
        )
    # 集中度 (issue 22): over a limit is a warning here (the officer can still change the
    # request), shown with the admission result; the approval refuses it.
    from credo.lending.exposure.services import concentration_warning

    if warning := concentration_warning(customer=app.customer, additional_fen=app.amount.fen):
        app.admission_reasons = [*reasons, {"reason": warning, "code": "concentration"}]
    # Both grades are kept; the published scorecard's grade routes the approval, the credit
    # report's rules grade only when no scorecard is published.
    app.rules_score, app.rules_grade = _risk(app.customer)
    if scored is not None:
        score, grade, source = scored.score, scored.grade, Application.GradeSource.SCORECARD
    else:
        score, grade, source = app.rules_score, app.rules_grade, Application.GradeSource.RULES
    app.risk_score, app.risk_grade, app.risk_grade_source = score, grade, source
    routing = {"risk_grade": grade, "risk_grade_source": source, "rules_grade": app.rules_grade}
    _transition(
        app,
        S.IN_APPROVAL,
        actor=actor,
        kind="decision",
        title=_("申请 %(n)s 准入通过，进入审批") % {"n": app.number},
        detail={"model": decision.version_label, **routing},
        metadata={**meta, "model": decision.version_label, **routing},
    )
    approvals = _approvals()
    if approvals is None:
        logger.warning("approvals app not available; application %s waits in approval", app.pk)
        return app
    from credo.approvals.errors import ApprovalError

    try:
        _start_approval(approvals, app, grade=grade, actor=actor)
    except ApprovalError as exc:
        # e.g. no approver configured for the route: refuse the submission, nothing changes.
        raise InvalidState(
            _("无法发起审批：%(e)s") % {"e": getattr(exc, "message", str(exc))}
        ) from None
    # An auto-approval runs the outcome listener inside approval_start: reload.
    app.refresh_from_db()
    return app


def _start_approval(approvals: Any, app: Application, *, grade: str, actor: Any) -> None:
    approvals.approval_start(
        subject=app,
        flow_key=FLOW_KEY,
        context={
            "amount": app.amount.fen,
            "months": app.months,
            "product": app.product_version.product.code,
            "risk_grade": grade,
            "branch": app.branch.code if app.branch else "",
            "applicant_id": app.owner_id,
        },
        actor=actor if actor is not None else app.owner,
        title=_("贷款申请 %(n)s：%(c)s %(amt)s 元")
        % {"n": app.number, "c": app.customer.name, "amt": app.amount.format(symbol=False)},
        url=application_url(app),
    )


@_atomic
def application_withdraw(*, application: Application, actor: Any, reason: str = "") -> Application:
    _lock_approval_first(application)
    app = _lock(application)
    _check_actor(app, actor, "origination.change_application")
    if app.status not in WITHDRAWABLE:
        raise InvalidState(_("申请当前状态（%(s)s）不能撤回。") % {"s": app.get_status_display()})
    was_in_approval = app.status in (S.IN_APPROVAL, S.RETURNED)
    _transition(
        app,
        S.WITHDRAWN,
        actor=actor,
        title=_("撤回贷款申请 %(n)s") % {"n": app.number},
        detail={"reason": reason},
        metadata={"reason": reason},
        extra_fields={"decided_at": timezone.now(), "decision_note": (reason or "")[:300]},
    )
    if was_in_approval:
        approvals = _approvals()
        cancel = getattr(approvals, "approval_cancel", None) if approvals else None
        instance = _instance(app)
        if cancel is not None and instance is not None:
            cancel(instance=instance, actor=actor, reason=reason or _("申请已撤回"))
    app.portal_links.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    _cancel_return_todo(app)
    return app


def _instance(app: Application) -> Any:
    from credo.approvals.selectors import instance_for

    return instance_for(app)


def _lock_approval_first(application: Application) -> None:
    """Lock order approval instance → application (docs/architecture.md): an approver's action
    holds the instance and its task when the outcome listener locks the application, so the
    applicant's withdrawal or answer locks the instance before the application too."""
    if _approvals() is None:
        return
    instance = _instance(application)
    if instance is not None:
        type(instance)._default_manager.select_for_update(of=("self",)).filter(
            pk=instance.pk
        ).first()


@_atomic
def application_answer(*, application: Application, actor: Any, answer: str) -> Application:
    """The owner answers an approver's question; the flow continues where it was returned."""
    _lock_approval_first(application)
    app = _lock(application)
    _check_actor(app, actor, "origination.change_application")
    if app.status != S.RETURNED:
        raise InvalidState(_("只有被退回的申请需要补充说明。"))
    answer = (answer or "").strip()
    if not answer:
        raise InvalidApplication(_("请填写补充说明。"))
    _transition(
        app,
        S.IN_APPROVAL,
        actor=actor,
        title=_("申请 %(n)s 已补充说明，重新进入审批") % {"n": app.number},
        detail={"answer": answer[:500]},
        extra_fields={"return_answer": answer},
    )
    _cancel_return_todo(app)
    approvals = _approvals()
    instance = _instance(app)
    if approvals is not None and instance is not None:
        approvals.approval_resume(instance=instance, actor=actor, answer=answer)
        app.refresh_from_db()
    return app
