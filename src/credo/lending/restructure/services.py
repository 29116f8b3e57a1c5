"""Request, approve, execute 展期 / 重组 / 借新还旧 (rules and conventions: :mod:`.rules`,
:mod:`.quote`).

Approval: lending cannot import the approval flows (they sit above it), so a request is handed
to the submitter registered under ``"approval"`` in :data:`submitters` (origination registers
one that starts the flow ``lending.restructure``; its outcome listener calls
:func:`restructuring_approve` / :func:`restructuring_reject` with ``via_flow=True``). Without a
submitter the request waits for a second person holding ``lending.approve_restructure``
(maker-checker). Approval executes at once, on the approval date.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import clock, fsm
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.core.registry import Registry
from credo.customers.events import record_event
from credo.lending import ledger
from credo.lending.errors import InvalidLoan, InvalidState, MakerChecker, NotPermitted
from credo.lending.models import Installment, JournalEntry, Loan, Posting, Restructuring
from credo.lending.restructure import rules
from credo.lending.restructure.quote import Plan, build_plan, check_plan_cap, parse_terms
from credo.lending.schedule import fen_to_str

K = Restructuring.Kind
S = Restructuring.Status
REQUEST_PERM = "lending.request_restructure"
APPROVE_PERM = "lending.approve_restructure"
COMPONENTS = ("principal", "interest", "fee", "penalty")
# the old loan's servicing conventions the 借新还旧 loan keeps (its rate is the fixed rate of
# the request: a floating-rate link is not carried over)
CONVENTION_FIELDS = (
    "installment_fee",
    "penalty_multiplier",
    "grace_days",
    "penalty_days_in_year",
    "compound_interest",
    "penalty_from",
    "holiday_rule",
    "allocation_order",
)

# "approval" → fn(restructuring, actor): start the approval of a new request (inside its
# transaction). Registered by a layer above lending (origination).
submitters: Registry[Callable[[Restructuring, Any], None]] = Registry(
    "restructuring submitters", on_duplicate="replace"
)


def uses_flow() -> bool:
    return submitters.get("approval") is not None


def restructuring_quote(*, loan: Loan, kind: str, terms: dict[str, Any]) -> Plan:
    """试算 on today's figures (no writes)."""
    return build_plan(loan, kind, parse_terms(loan, kind, terms), clock.today())


def _title(r: Restructuring) -> str:
    return _("贷款 %(n)s 申请%(k)s") % {"n": r.loan.number, "k": r.get_kind_display()}


@transaction.atomic
def restructuring_request(
    *, loan: Loan, kind: str, terms: dict[str, Any], reason: str, actor: Any
) -> Restructuring:
    """申请: validated terms, the quote on today's figures, then the approval (flow or
    maker-checker). A too-long 展期 is refused here with the rule that refuses it."""
    if not actor.has_perm(REQUEST_PERM):
        raise NotPermitted(_("没有申请展期/重组/借新还旧的权限。"))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidLoan(_("请填写申请原因。"))
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if locked.restructurings.filter(status__in=(S.REQUESTED, S.APPROVED)).exists():
        raise InvalidState(_("该贷款已有待审批的展期/重组申请。"))
    parsed = parse_terms(locked, kind, terms)
    plan = build_plan(locked, kind, parsed, clock.today())
    check_plan_cap(locked, plan)  # 综合融资成本上限 (issue 20)
    r = Restructuring.objects.create(
        loan=locked,
        kind=kind,
        reason=reason[:2000],
        old_terms=plan.old_terms,
        new_terms=plan.new_terms,
        quote={**plan.as_dict(locked), "approval": "flow" if uses_flow() else "maker_checker"},
        classification_before=locked.classification,
        requested_by=actor,
    )
    audit_record(
        action="loan.restructure_request",
        actor=actor,
        obj=locked,
        metadata={"restructuring": r.pk, "kind": kind, "terms": plan.new_terms, "reason": reason},
    )
    record_event(
        customer=locked.customer,
        kind="other",
        actor=actor,
        obj=locked,
        source="lending",
        title=_title(r),
        detail={"restructuring": r.pk, "kind": kind, "terms": plan.new_terms},
    )
    submit = submitters.get("approval")
    if submit is not None:
        submit(r, actor)
        r.refresh_from_db()
    return r


def _lock(r: Restructuring) -> Restructuring:
    return Restructuring.objects.select_for_update().select_related("loan").get(pk=r.pk)


@transaction.atomic
def restructuring_approve(
    *, restructuring: Restructuring, actor: Any, note: str = "", via_flow: bool = False
) -> Restructuring:
    """审批通过, then execute at once. ``via_flow``: called by the approval flow's outcome
    listener (the flow decided who may approve); otherwise maker-checker: a second person
    holding ``lending.approve_restructure``, only when no approval flow is configured."""
    r = _lock(restructuring)
    if getattr(actor, "pk", None) == r.requested_by_id:
        raise MakerChecker(_("申请人不能审批自己的展期/重组申请（双人复核）。"))
    if not via_flow:
        if r.quote.get("approval") == "flow":
            raise InvalidState(_("该申请通过审批流审批，请在审批任务中处理。"))
        if not actor.has_perm(APPROVE_PERM):
            raise NotPermitted(_("没有审批展期/重组的权限。"))
    fsm.transition(r, S.APPROVED, save=False)
    r.approved_by = actor
    r.approved_at = timezone.now()
    r.decision_note = (note or "")[:300]
    r.save()
    audit_record(
        action="loan.restructure_approve",
        actor=actor,
        obj=r.loan,
        metadata={"restructuring": r.pk, "via_flow": via_flow, "note": note},
    )
    return restructuring_execute(restructuring=r, actor=actor)


@transaction.atomic
def restructuring_reject(
    *, restructuring: Restructuring, actor: Any, note: str = "", via_flow: bool = False
) -> Restructuring:
    r = _lock(restructuring)
    if not via_flow and not actor.has_perm(APPROVE_PERM):
        raise NotPermitted(_("没有审批展期/重组的权限。"))
    fsm.transition(r, S.REJECTED, save=False)
    r.decision_note = (note or "")[:300]
    r.save()
    audit_record(
        action="loan.restructure_reject",
        actor=actor,
        obj=r.loan,
        metadata={"restructuring": r.pk, "via_flow": via_flow, "note": note},
    )
    record_event(
        customer=r.loan.customer,
        kind="decision",
        actor=actor,
        obj=r.loan,
        source="lending",
        title=_("贷款 %(n)s 的%(k)s申请被拒绝") % {"n": r.loan.number, "k": r.get_kind_display()},
        detail={"restructuring": r.pk, "note": note},
    )
    return r


@transaction.atomic
def restructuring_cancel(
    *, restructuring: Restructuring, actor: Any, reason: str = ""
) -> Restructuring:
    r = _lock(restructuring)
    if getattr(actor, "pk", None) != r.requested_by_id and not actor.has_perm(APPROVE_PERM):
        raise NotPermitted(_("只有申请人或审批人可以撤销申请。"))
    fsm.transition(r, S.CANCELLED, save=False)
    r.decision_note = (reason or "")[:300]
    r.save()
    audit_record(
        action="loan.restructure_cancel", actor=actor, obj=r.loan, metadata={"restructuring": r.pk}
    )
    return r


def _floor(loan: Loan, before: str, today: Any) -> tuple[str, bool]:
    until = getattr(loan, "classification_floor_until", None)
    again = bool(until and until >= today)
    return rules.floor_after(before, again_in_observation=again), again


def _apply_floor(loan: Loan, floor: str, due_dates: list[Any]) -> None:
    loan.classification_floor = floor
    loan.classification_floor_until = rules.observation_end(due_dates)
    loan.classification = rules.worse(loan.classification, floor)


def _snapshot(rows: list[Installment]) -> list[dict[str, Any]]:
    out = []
    for i in rows:
        row = {"period": i.period, "due_date": i.due_date.isoformat(), "status": i.status}
        for c in COMPONENTS:
            row[f"{c}_due"] = getattr(i, f"{c}_due").fen
            row[f"{c}_paid"] = getattr(i, f"{c}_paid").fen
        out.append(row)
    return out


@transaction.atomic
def restructuring_execute(*, restructuring: Restructuring, actor: Any) -> Restructuring:
    """执行 an approved request on today's figures (the quote is recomputed: payments may have
    arrived since the request)."""
    r = _lock(restructuring)
    if r.status != S.APPROVED:
        raise InvalidState(_("只有已审批的申请可以执行。"))
    loan = Loan.objects.select_for_update().get(pk=r.loan_id)
    if loan.credit_balance.fen:
        raise InvalidState(_("贷款有溢缴款，请先冲抵或退还后再办理。"))
    today = clock.today()
    terms = {k: v for k, v in r.new_terms.items() if k not in ("maturity_date",)}
    if r.kind == K.EXTENSION:
        terms = {"extend_months": r.new_terms["extend_months"]}
    plan = build_plan(loan, r.kind, terms, today)
    check_plan_cap(loan, plan)  # the cap again on today's figures
    before = {"status": loan.status, "classification": loan.classification}
    if r.kind == K.REFINANCE:
        entry, new_loan = _execute_refinance(r, loan, plan, actor, today)
        r.new_loan = new_loan
        subject = new_loan
    else:
        entry = _execute_in_place(r, loan, plan, actor, today)
        subject = loan
    r.entry = entry
    r.quote = {**r.quote, "executed": plan.as_dict(subject)}
    r.new_terms = {**r.new_terms, **plan.new_terms}
    r.executed_at = timezone.now()
    r.executed_on = today
    fsm.transition(r, S.EXECUTED, save=False)
    r.save()
    audit_record(
        action="loan.restructure_execute",
        actor=actor,
        obj=loan,
        changes={
            "status": [before["status"], loan.status],
            "classification": [before["classification"], subject.classification],
        },
        metadata={
            "restructuring": r.pk,
            "kind": r.kind,
            "old_terms": r.old_terms,
            "new_terms": r.new_terms,
            "entry": entry.pk,
            "new_loan": r.new_loan.number if r.new_loan else None,
            "classification_floor": getattr(subject, "classification_floor", None),
            "floor_until": str(getattr(subject, "classification_floor_until", "")),
        },
    )
    record_event(
        customer=loan.customer,
        kind="other",
        actor=actor,
        obj=subject,
        source="lending",
        title=(
            _("贷款 %(n)s 借新还旧：新贷款 %(m)s %(amt)s 元")
            % {"n": loan.number, "m": subject.number, "amt": fen_to_str(plan.balance)}
            if r.kind == K.REFINANCE
            else _("贷款 %(n)s 已%(k)s：年利率 %(r)s%%，%(m)s 个月，到期日 %(d)s")
            % {
                "n": loan.number,
                "k": r.get_kind_display(),
                "r": plan.annual_rate,
                "m": plan.months,
                "d": plan.schedule.due_dates[-1].isoformat(),
            }
        ),
        detail={"restructuring": r.pk, "kind": r.kind},
    )
    return r


def _execute_in_place(
    r: Restructuring, loan: Loan, plan: Plan, actor: Any, today: Any
) -> JournalEntry:
    """展期 / 重组: the old schedule's unpaid rows are closed (what was paid stays, the unpaid
    rest moves: principal into the new schedule, interest/fee/罚息 into one 重组前欠款 row) and
    the new schedule is written after them."""
    rows = list(loan.installments.select_for_update().order_by("period"))
    unpaid = [i for i in rows if i.status != Installment.Status.PAID]
    r.old_terms = {**r.old_terms, **plan.old_terms, "replaced": _snapshot(unpaid)}
    for inst in unpaid:
        paid_nothing = not any(getattr(inst, f"{c}_paid").fen for c in COMPONENTS)
        if inst.due_date > today and paid_nothing:
            inst.delete()
            continue
        for c in COMPONENTS:
            setattr(inst, f"{c}_due", getattr(inst, f"{c}_paid"))
        inst.paid_on = today
        fsm.transition(inst, Installment.Status.PAID, save=False)
        inst.save()
    period = max((i.period for i in rows if i.pk is not None), default=0)
    first_due = plan.schedule.due_dates[0]
    new_rows = []
    if plan.arrears_total:
        period += 1
        new_rows.append(
            Installment(
                loan=loan,
                period=period,
                due_date=first_due,
                principal_due=0,
                interest_due=plan.arrears["interest"],
                fee_due=plan.arrears["fee"],
                penalty_due=plan.arrears["penalty"],
            )
        )
    fee = loan.installment_fee.fen
    for i in plan.schedule.installments:
        period += 1
        new_rows.append(
            Installment(
                loan=loan,
                period=period,
                due_date=i.due_date,
                principal_due=i.principal,
                interest_due=i.interest,
                fee_due=fee,
            )
        )
    Installment.objects.bulk_create(new_rows)
    entry = ledger.post_entry(
        loan=loan,
        kind=JournalEntry.Kind.RESTRUCTURE,
        business_date=today,
        actor=actor,
        memo=f"{r.get_kind_display()} {loan.number}：原合同本金结转新还款计划",
        lines=[("loan_principal", plan.balance, 0), ("loan_principal", 0, plan.balance)],
    )
    floor, _again = _floor(loan, r.classification_before or loan.classification, today)
    loan.annual_rate = plan.annual_rate
    loan.method = plan.method
    loan.maturity_date = plan.schedule.due_dates[-1]
    if loan.start_date:
        loan.months = rules.months_between(loan.start_date, loan.maturity_date)
    loan.dpd = 0
    _apply_floor(loan, floor, list(plan.schedule.due_dates))
    loan.version += 1
    fsm.transition(loan, Loan.Status.ACTIVE, save=False, allow_same=True)
    loan.save()
    return entry


def _execute_refinance(
    r: Restructuring, old: Loan, plan: Plan, actor: Any, today: Any
) -> tuple[JournalEntry, Loan]:
    """借新还旧: a new loan of the old one's payoff, disbursed to repay it in full. Two balanced
    entries through the cash account (which nets to zero): the new loan's disbursement
    (Dr 贷款本金[新] / Cr 银行存款, kind 重组) and the old loan's repayment (a prepayment of
    its payoff, or a repayment of what is due when nothing is left to fall due)."""
    from credo.lending.services import next_loan_number, repayment_post

    new = Loan.objects.create(  # type: ignore[misc]
        number=next_loan_number(),
        customer=old.customer,
        product_version=old.product_version,
        principal=Money.from_fen(plan.balance),
        annual_rate=plan.annual_rate,
        months=plan.months,
        method=plan.method,
        repayment_day=None,
        upfront_fee=0,
        **{f: getattr(old, f) for f in CONVENTION_FIELDS if hasattr(old, f)},
        owner=old.owner,
        team=old.team,
        branch=old.branch,
        created_by=r.requested_by,
    )
    fee = old.installment_fee.fen
    Installment.objects.bulk_create(
        [
            Installment(
                loan=new,
                period=i.period,
                due_date=i.due_date,
                principal_due=i.principal,
                interest_due=i.interest,
                fee_due=fee,
            )
            for i in plan.schedule.installments
        ]
    )
    entry = ledger.post_entry(
        loan=new,
        kind=JournalEntry.Kind.RESTRUCTURE,
        business_date=today,
        actor=actor,
        memo=f"借新还旧 {new.number} 放款归还 {old.number}",
        lines=[("loan_principal", plan.balance, 0), ("cash", 0, plan.balance)],
    )
    new.start_date = today
    new.maturity_date = plan.schedule.due_dates[-1]
    new.outstanding_principal = Money.from_fen(plan.balance)
    new.disbursed_by, new.disbursed_at = actor, timezone.now()
    fsm.transition(new, Loan.Status.ACTIVE, save=False)
    floor, _again = _floor(old, r.classification_before or old.classification, today)
    new.classification = old.classification
    _apply_floor(new, floor, list(plan.schedule.due_dates))
    new.save()
    key = f"restructure:{r.pk}"
    figures = plan.figures
    assert figures is not None
    if figures.future:
        from credo.lending.prepay.posting import prepay

        prepay(
            loan=old,
            amount=Money.from_fen(plan.payoff),
            on_date=today,
            mode="reduce_payment",
            actor=actor,
            idempotency_key=key,
            channel=Posting.Channel.MANUAL,
        )
    else:
        repayment_post(
            loan=old,
            amount=Money.from_fen(plan.payoff),
            received_on=today,
            actor=actor,
            channel=Posting.Channel.MANUAL,
            reference=_("借新还旧"),
            idempotency_key=key,
        )
    old.refresh_from_db()
    if old.status != Loan.Status.PAID_OFF:
        raise InvalidState(_("借新还旧未能结清原贷款 %(n)s。") % {"n": old.number})
    record_event(
        customer=new.customer,
        kind="disbursement",
        actor=actor,
        obj=new,
        source="lending",
        title=_("借新还旧新贷款 %(n)s 放款 %(amt)s 元，归还贷款 %(o)s")
        % {"n": new.number, "amt": fen_to_str(plan.balance), "o": old.number},
    )
    return entry, new
