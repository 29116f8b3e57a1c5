"""After the approval: the approval outcome listener, the contract (send, signed, closed,
resend) and the loan pending disbursement."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.lender import contract_terms as lender_contract_terms
from credo.core.money import Money
from credo.origination.errors import (
    InvalidState,
)
from credo.origination.models import Application
from credo.origination.services.common import (
    SUBJECT_TYPE,
    S,
    _atomic,
    _cancel_return_todo,
    _check_actor,
    _lock,
    _return_todo_key,
    _transition,
    application_url,
)


# --- approval outcome, contract, signature, loan -------------------------------------------------
def _load_subject(instance: Any) -> Application | None:
    if getattr(instance, "subject_type", "") != SUBJECT_TYPE:
        return None
    try:
        return Application.objects.get(pk=int(instance.subject_id))
    except (Application.DoesNotExist, TypeError, ValueError):
        return None


def _question_of(instance: Any) -> str:
    for attr in ("return_question", "question", "comment"):
        value = getattr(instance, attr, "")
        if value:
            return str(value)
    steps = getattr(instance, "actions", None)
    try:
        last = steps.order_by("-id").first() if steps is not None else None
    except (AttributeError, TypeError):  # not a related manager
        last = None
    return str(getattr(last, "comment", "") or "")


def _outcome_actor(instance: Any) -> Any:
    """Who made the deciding action (None for an automatic decision)."""
    actions = getattr(instance, "actions", None)
    try:
        last = (
            actions.filter(actor__isnull=False).select_related("actor").order_by("-id").first()
            if actions is not None
            else None
        )
    except (AttributeError, TypeError):  # not a related manager
        return None
    return getattr(last, "actor", None)


def _last_answer(instance: Any) -> str:
    actions = getattr(instance, "actions", None)
    try:
        last = (
            actions.filter(kind="resume").order_by("-id").first() if actions is not None else None
        )
    except (AttributeError, TypeError):  # not a related manager
        last = None
    return str(getattr(last, "comment", "") or "")


@transaction.atomic
def on_approval_outcome(instance: Any, outcome: str) -> None:
    """Listener registered with approvals for flow ``origination.application``."""
    app0 = _load_subject(instance)
    if app0 is None:
        return
    app = _lock(app0)
    actor = _outcome_actor(instance)
    if outcome == "approved":
        # RETURNED too: the applicant may have answered on the approvals page directly.
        if app.status not in (S.IN_APPROVAL, S.SUBMITTED, S.RETURNED):
            return
        amount = getattr(instance, "decided_amount", None)
        months = getattr(instance, "decided_months", None)
        _concentration(app, amount or app.amount.fen)
        extra: dict[str, Any] = {"decided_at": timezone.now()}
        if amount:
            extra["approved_amount"] = Money.from_fen(int(amount))
        if months:
            extra["approved_months"] = int(months)
        _transition(
            app,
            S.APPROVED,
            actor=actor,
            kind="decision",
            title=_("申请 %(n)s 审批通过：%(amt)s 元，%(m)s 个月")
            % {
                "n": app.number,
                "amt": Money.from_fen(amount or app.amount.fen).format(symbol=False),
                "m": months or app.months,
            },
            extra_fields=extra,
        )
        _send_contract(app, actor=actor)
    elif outcome == "rejected":
        if app.status not in (S.IN_APPROVAL, S.SUBMITTED, S.RETURNED):
            return
        _transition(
            app,
            S.REJECTED,
            actor=actor,
            kind="decision",
            title=_("申请 %(n)s 审批拒绝") % {"n": app.number},
            extra_fields={"decided_at": timezone.now()},
        )
        app.portal_links.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    elif outcome == "resumed":
        if app.status != S.RETURNED:
            return
        answer = _last_answer(instance)
        _transition(
            app,
            S.IN_APPROVAL,
            actor=actor,
            title=_("申请 %(n)s 已补充说明，重新进入审批") % {"n": app.number},
            detail={"answer": answer[:500]},
            extra_fields={"return_answer": answer},
        )
        _cancel_return_todo(app)
    elif outcome == "returned":
        if app.status != S.IN_APPROVAL:
            return
        question = _question_of(instance)
        _transition(
            app,
            S.RETURNED,
            actor=actor,
            title=_("申请 %(n)s 被退回补充：%(q)s") % {"n": app.number, "q": question},
            detail={"question": question},
            extra_fields={"return_question": question, "return_answer": ""},
        )
        from credo.core.todo.services import todo_create

        todo_create(
            user=app.owner,
            title=_("申请 %(n)s 被退回，请补充说明") % {"n": app.number},
            description=question,
            url=application_url(app),
            source="origination",
            dedupe_key=_return_todo_key(app),
            actor=actor,
        )


def _concentration(app: Application, amount_fen: int) -> None:
    """集中度 (issue 22): an approval over a concentration limit is refused with the figures;
    the approver's action rolls back and the task stays open (lower the amount or reject)."""
    from credo.approvals.errors import ApprovalError
    from credo.lending.exposure.services import ConcentrationBreach, concentration_enforce

    try:
        concentration_enforce(
            customer=app.customer, additional_fen=amount_fen, point=_("批准该申请")
        )
    except ConcentrationBreach as exc:
        raise ApprovalError(exc.message, code="concentration_limit") from None


def approved_unbooked_fen(customer_ids: Any) -> dict[int, int]:
    """集中度 commitments (registered with lending.exposure): approved applications whose loan
    is not booked yet, by customer (``customer_ids`` None: all)."""
    from django.db.models import Sum
    from django.db.models.functions import Coalesce

    from credo.core.money import fen_of

    qs = Application.objects.filter(status__in=(S.APPROVED, S.CONTRACT_SENT, S.SIGNED))
    if customer_ids is not None:
        qs = qs.filter(customer_id__in=list(customer_ids))
    rows = (
        qs.order_by()  # a sum per customer: the model's ordering is not wanted
        .values("customer_id")
        .annotate(t=Sum(Coalesce("approved_amount", "amount")))
    )
    return {r["customer_id"]: fen_of(r["t"]) for r in rows}


def contract_terms(app: Application, *, start: dt.date | None = None) -> dict[str, Any]:
    from credo.lending.forms import METHOD_CHOICES
    from credo.lending.schedule import generate

    principal, months = app.final_amount, app.final_months
    schedule = generate(
        principal=principal,
        annual_rate=app.annual_rate,
        months=months,
        method=app.method,
        start=start or clock.today(),
        repayment_day=app.product_version.repayment_day,
    )
    return {
        "borrower": app.customer.name,
        **lender_contract_terms(),
        "amount_fen": principal,
        "annual_rate": f"{app.annual_rate:.4f}",
        "months": months,
        "method": app.method,
        "method_label": str(dict(METHOD_CHOICES).get(app.method, app.method)),
        "product": app.product_version.product.name,
        "purpose": app.purpose,
        "start_date": None,
        **_apr_terms(app, start or clock.today()),
        "schedule": [
            {
                "period": i.period,
                "due_date": i.due_date.isoformat(),
                "payment": i.principal + i.interest,
                "principal": i.principal,
                "interest": i.interest,
            }
            for i in schedule.installments
        ],
    }


def _apr_terms(app: Application, start: dt.date) -> dict[str, Any]:
    """年化利率 (issue 20) for the contract: the IRR of the borrower's flows with the product's
    fees, and the fees themselves (the template variable ``apr``)."""
    from credo.lending.errors import LendingError
    from credo.lending.pricing import caps

    pv = app.product_version
    try:
        apr = caps.version_terms_apr(
            pv,
            principal=app.final_amount,
            months=app.final_months,
            annual_rate=app.annual_rate,
            start=start,
        )
    except LendingError:
        return {}
    return {
        "apr_percent": apr.percent_str,
        "upfront_fee_fen": caps.upfront_fee_for(pv, app.final_amount),
        "installment_fee_fen": caps.fen(pv.installment_fee),
    }


def _send_contract(app: Application, *, actor: Any) -> None:
    from credo.contracts.services import contract_generate, contract_send

    contract = contract_generate(
        subject=app,
        customer=app.customer,
        terms=contract_terms(app),
        actor=actor or app.owner,
        template_code="loan",
    )
    contract_send(contract=contract, actor=actor or app.owner)
    _transition(
        app,
        S.CONTRACT_SENT,
        actor=actor,
        title=_("申请 %(n)s 合同已发送签署（%(c)s）")
        % {"n": app.number, "c": getattr(contract, "number", "")},
        detail={"contract": getattr(contract, "pk", None)},
    )


@transaction.atomic
def on_contract_signed(contract: Any) -> None:
    """Listener registered with contracts: signed → create the loan pending disbursement."""
    if getattr(contract, "subject_type", "") != SUBJECT_TYPE:
        return
    try:
        app = _lock(Application(pk=int(contract.subject_id)))
    except (Application.DoesNotExist, TypeError, ValueError):
        return
    if app.status != S.CONTRACT_SENT:
        return
    _transition(
        app,
        S.SIGNED,
        actor=None,
        title=_("申请 %(n)s 合同已签署") % {"n": app.number},
        detail={"contract": getattr(contract, "pk", None)},
    )
    _create_loan(app, actor=None)


@transaction.atomic
def on_contract_closed(contract: Any, status: str) -> None:
    """Listener registered with contracts: a rejected or expired contract sends the application
    back to approved, with the reason, so staff can issue a new contract."""
    if getattr(contract, "subject_type", "") != SUBJECT_TYPE:
        return
    try:
        app = _lock(Application(pk=int(contract.subject_id)))
    except (Application.DoesNotExist, TypeError, ValueError):
        return
    if app.status != S.CONTRACT_SENT:
        return
    reason = _("合同 %(c)s 已被拒签") if status == "rejected" else _("合同 %(c)s 已过期未签")
    note = reason % {"c": getattr(contract, "number", "")}
    _transition(
        app,
        S.APPROVED,
        actor=None,
        title=_("申请 %(n)s：%(r)s，可重新发起签署") % {"n": app.number, "r": note},
        detail={"contract": getattr(contract, "pk", None), "status": status},
        extra_fields={"decision_note": note[:300]},
    )


@_atomic
def application_contract_resend(*, application: Application, actor: Any) -> Application:
    """Issue a new contract for an approved application whose previous contract was rejected
    or expired (or never sent)."""
    app = _lock(application)
    _check_actor(app, actor, "origination.change_application")
    if app.status != S.APPROVED:
        raise InvalidState(_("只有已批准、尚未签署合同的申请可以重新发起签署。"))
    _send_contract(app, actor=actor)
    app.refresh_from_db()
    return app


def _create_loan(app: Application, *, actor: Any) -> Application:
    """signed → loan_created. A lending refusal (e.g. the credit limit) must not lose the
    signature: the application stays signed with the reason, and staff retry after fixing it."""
    from credo.lending.errors import LendingError
    from credo.lending.services import loan_create

    try:
        with transaction.atomic():
            loan = loan_create(
                customer=app.customer,
                product_version=app.product_version,
                principal=Money.from_fen(app.final_amount),
                annual_rate=app.annual_rate,
                months=app.final_months,
                actor=app.owner,
            )
    except LendingError as exc:
        app.decision_note = exc.message[:300]
        app.version += 1
        app.save(update_fields=["decision_note", "version", "updated_at"])
        audit_record(
            action="application.loan_failed", actor=actor, obj=app, metadata={"error": exc.message}
        )
        return app
    return _transition(
        app,
        S.LOAN_CREATED,
        actor=actor,
        title=_("申请 %(n)s 已生成贷款 %(l)s，等待财务放款") % {"n": app.number, "l": loan.number},
        detail={"loan": loan.pk},
        metadata={"loan": loan.number},
        extra_fields={"loan": loan, "decision_note": ""},
    )


@_atomic
def application_create_loan(*, application: Application, actor: Any) -> Application:
    """Retry the loan creation of a signed application (after the blocking reason was fixed)."""
    app = _lock(application)
    _check_actor(app, actor, "origination.change_application")
    if app.status != S.SIGNED:
        raise InvalidState(_("只有合同已签署、尚未生成贷款的申请可以生成贷款。"))
    app = _create_loan(app, actor=actor)
    if app.status != S.LOAN_CREATED:
        raise InvalidState(_("生成贷款失败：%(e)s") % {"e": app.decision_note})
    return app
