"""Writes of the servicing approvals: request, approve, reject, cancel — each in one
transaction, permission-checked, row-locked, audited, on the customer's timeline and on the
approvers' todo lists.

Lock order (the money-path order of lending): the request row first, then the loan row (the
replay service locks the loan when the approval applies a waiver). A double click or two
approvers at once: the second waits for the request lock and finds it decided.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.scope import scope_queryset
from credo.core import clock, fsm
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.core.todo.models import Todo
from credo.core.todo.services import todo_cancel_by_key, todo_complete, todo_create
from credo.customers.events import record_event
from credo.lending.errors import InvalidLoan, InvalidState, MakerChecker, NotPermitted
from credo.lending.models import Installment, Loan
from credo.lending.servicing import rules
from credo.lending.servicing.models import ClassificationRequest, RequestStatus, WaiverRequest
from credo.lending.states import LOAN_OPEN_STATES

REQUEST_WAIVER = "lending.request_waiver"
APPROVE_WAIVER = "lending.approve_waiver"
REQUEST_CLASS = "lending.request_classification"
APPROVE_CLASS = "lending.approve_classification"
TODO_SOURCE = "lending"
MAX_APPROVER_TODOS = 50
#: how long a manual class holds when the requester gives no date
DEFAULT_FLOOR_MONTHS = 6


def component_label(comp: str) -> str:
    labels = {
        "penalty": _("罚息（含复利）"),
        "compound": _("其中复利"),
        "fee": _("费用"),
        "interest": _("利息"),
    }
    return labels.get(comp, comp)


def _yuan(fen: int) -> str:
    return Money.from_fen(int(fen)).format(symbol=False)


# ---------------------------------------------------------------- what may be waived


def tracks_compound() -> bool:
    return any(f.name == "compound_due" for f in Installment._meta.get_fields())


def waivable_components() -> tuple[str, ...]:
    """Components a waiver may reduce: the policy (``CREDO_WAIVER_COMPONENTS``, default 罚息,
    复利 and fees), restricted to what the loan tracks."""
    policy = tuple(getattr(settings, "CREDO_WAIVER_COMPONENTS", rules.DEFAULT_COMPONENTS))
    have = {"penalty", "fee", "interest"} | ({"compound"} if tracks_compound() else set())
    return tuple(c for c in rules.ALL_COMPONENTS if c in policy and c in have)


def owed_at(loan: Loan, value_date: dt.date) -> dict[str, int]:
    """What the borrower owes per waivable component at ``value_date`` (fen), on the
    installments due on or before it (those a waiver reduces).

    The loan replayed through the replay engine to the value date (every earlier event, the
    closes of business before it) — exactly what the waiver will be applied to; the
    installments as they stand if the engine cannot replay the loan."""
    try:
        return _owed_by_replay(loan, value_date)
    except Exception:  # noqa: BLE001 - a loan the engine refuses: the stored figures
        return _owed_stored(loan, value_date)


def _owed_by_replay(loan: Loan, value_date: dt.date) -> dict[str, int]:
    from credo.core.holidays import load_calendar
    from credo.lending.replay import engine
    from credo.lending.replay import service as replay_service

    if loan.start_date is None:
        return dict.fromkeys(rules.ALL_COMPONENTS, 0)
    insts = list(Installment.objects.filter(loan=loan).order_by("period"))
    events = [
        e
        for e in replay_service.loan_events([loan.pk]).get(loan.pk, [])
        if e.value_date <= value_date
    ]
    last = loan.last_eod_date or (loan.start_date - dt.timedelta(days=1))
    as_of = min(value_date - dt.timedelta(days=1), last)
    result = engine.replay(
        replay_service.loan_terms(loan),
        replay_service.schedule_rows(insts),
        events,
        as_of,
        load_calendar(),
        replay_service.loan_floor(loan),
    )
    out = dict.fromkeys(rules.ALL_COMPONENTS, 0)
    for inst in result.installments:
        if inst.due_date > value_date or inst.status in ("paid", "written_off"):
            continue
        penalty = inst.owed("penalty")
        out["penalty"] += penalty
        out["compound"] += min(inst.compound_due, penalty)
        out["fee"] += inst.owed("fee")
        out["interest"] += inst.owed("interest")
    return out


def _owed_stored(loan: Loan, value_date: dt.date) -> dict[str, int]:
    out = dict.fromkeys(rules.ALL_COMPONENTS, 0)
    compound = tracks_compound()
    for inst in Installment.objects.filter(loan=loan, due_date__lte=value_date).unpaid():
        penalty = inst.penalty_due.fen - inst.penalty_paid.fen
        out["penalty"] += penalty  # 罚息 including 复利
        if compound:
            part = getattr(inst, "compound_due", None)
            out["compound"] += min(part.fen if part is not None else 0, penalty)
        out["fee"] += inst.fee_due.fen - inst.fee_paid.fen
        out["interest"] += inst.interest_due.fen - inst.interest_paid.fen
    return out


def _check_against_owed(loan: Loan, amounts: Mapping[str, int], value_date: dt.date) -> dict:
    owed = owed_at(loan, value_date)
    problems = rules.check_amounts(amounts, owed, waivable_components())
    if problems:
        comp, code = problems[0]
        label = component_label(comp)
        if code == "empty":
            raise InvalidLoan(_("请至少填写一项减免金额。"))
        if code == "negative":
            raise InvalidLoan(_("%(c)s减免金额不能为负数。") % {"c": label})
        if code == "not_allowed":
            raise InvalidLoan(_("按产品政策，%(c)s不能减免。") % {"c": label})
        raise InvalidLoan(
            _("%(c)s减免金额 %(a)s 超过减免生效日 %(d)s 的应还 %(o)s。")
            % {
                "c": label,
                "a": _yuan(amounts[comp]),
                "d": value_date.isoformat(),
                "o": _yuan(owed.get(comp, 0)),
            }
        )
    return owed


# ---------------------------------------------------------------- approvers and todos


def approvers_for(loan: Loan, perm: str, *, exclude: Any = None) -> list[Any]:
    """Active users holding ``perm`` (through a role or directly) who can see ``loan``."""
    app_label, codename = perm.split(".")
    permission = Permission.objects.filter(
        content_type__app_label=app_label, codename=codename
    ).first()
    if permission is None:
        return []
    User = get_user_model()
    users = (
        User.objects.filter(is_active=True)
        .filter(Q(roles__permissions=permission) | Q(user_permissions=permission))
        .distinct()
        .order_by("id")
    )
    if exclude is not None:
        users = users.exclude(pk=exclude.pk)
    out = []
    for user in users[: MAX_APPROVER_TODOS * 4]:
        if scope_queryset(Loan.objects.filter(pk=loan.pk), user).exists():
            out.append(user)
        if len(out) >= MAX_APPROVER_TODOS:
            break
    return out


def _todo_key(kind: str, pk: int) -> str:
    return f"lending:{kind}:{pk}"


def _open_todos(kind: str, approvers: list[Any], *, title: str, url: str, key: str, actor: Any):
    for user in approvers:
        todo_create(
            user=user,
            title=title,
            url=url,
            source=TODO_SOURCE,
            priority=Todo.Priority.HIGH,
            dedupe_key=key,
            due_date=clock.today() + dt.timedelta(days=1),
            actor=actor,
        )


def _close_todos(key: str, *, decider: Any) -> None:
    """The decider's todo is done, everybody else's is cancelled."""
    for todo in Todo.objects.filter(dedupe_key=key, status=Todo.Status.OPEN).select_related("user"):
        if decider is not None and todo.user_id == decider.pk:
            todo_complete(todo=todo, actor=decider)
        else:
            todo_cancel_by_key(user=todo.user, dedupe_key=key, actor=decider)


def _require(actor: Any, perm: str, message: str) -> None:
    if actor is None or not actor.has_perm(perm):
        raise NotPermitted(message)


def _locked_loan(loan: Loan) -> Loan:
    # only the loan row is locked (not the joined customer)
    return Loan.objects.select_for_update(of=("self",)).select_related("customer").get(pk=loan.pk)


# ---------------------------------------------------------------- 罚息减免


@transaction.atomic
def waiver_request_create(
    *,
    loan: Loan,
    actor: Any,
    amounts: Mapping[str, int],
    value_date: dt.date,
    reason: str,
    attachment: Any = None,
) -> WaiverRequest:
    """申请罚息减免: amounts (fen per component) not above what is owed at ``value_date``."""
    _require(actor, REQUEST_WAIVER, _("没有申请罚息减免的权限。"))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidLoan(_("请填写减免原因。"))
    locked = _locked_loan(loan)
    if locked.status not in LOAN_OPEN_STATES:
        raise InvalidState(
            _("贷款状态为“%(s)s”，不能申请减免。") % {"s": locked.get_status_display()}
        )
    today = clock.today()
    if value_date > today:
        raise InvalidLoan(_("减免生效日不能晚于今天。"))
    if locked.start_date and value_date < locked.start_date:
        raise InvalidLoan(_("减免生效日不能早于起息日。"))
    if WaiverRequest.objects.filter(loan=locked, status=RequestStatus.REQUESTED).exists():
        raise InvalidState(_("该贷款已有待审批的减免申请，请先处理。"))
    clean = {c: int(v) for c, v in amounts.items() if int(v) != 0}
    owed = _check_against_owed(locked, clean, value_date)
    req = WaiverRequest.objects.create(
        loan=locked,
        value_date=value_date,
        amounts=clean,
        total=Money.from_fen(sum(clean.values())),  # type: ignore[misc]
        owed={c: owed[c] for c in waivable_components()},
        reason=reason,
        requested_by=actor,
    )
    if attachment is not None:
        req.attachment.save(f"waiver-{req.pk}-{attachment.name}"[-120:], attachment, save=True)
    audit_record(
        action="waiver.request",
        actor=actor,
        obj=req,
        metadata={
            "loan": locked.number,
            "amounts": clean,
            "value_date": value_date.isoformat(),
            "owed": req.owed,
            "reason": reason,
        },
    )
    record_event(
        customer=locked.customer,
        kind="other",
        actor=actor,
        obj=locked,
        source="lending",
        title=_("贷款 %(n)s 申请罚息减免 %(a)s 元（待审批）")
        % {"n": locked.number, "a": _yuan(req.total.fen)},
        detail={"waiver_request": req.pk, "amounts": clean, "reason": reason},
    )
    url = reverse("lending:servicing:waiver_detail", args=[req.pk])
    _open_todos(
        "waiver",
        approvers_for(locked, APPROVE_WAIVER, exclude=actor),
        title=_("审批罚息减免：贷款 %(n)s，%(a)s 元")
        % {"n": locked.number, "a": _yuan(req.total.fen)},
        url=url,
        key=_todo_key("waiver", req.pk),
        actor=actor,
    )
    return req


def _decide_guard(req: Any, actor: Any, target: str) -> bool:
    """True when this exact decision was already taken by this actor (a double click)."""
    if req.status == target and req.decided_by_id == getattr(actor, "pk", None):
        return True
    if req.status != RequestStatus.REQUESTED:
        raise InvalidState(_("该申请已处理（%(s)s）。") % {"s": req.get_status_display()})
    return False


def waiver_limit_for(actor: Any) -> int | None:
    if getattr(actor, "is_superuser", False):
        return None
    codes: set[str] = getattr(actor, "role_codes", set()) or set()
    return rules.approver_limit(codes, getattr(settings, "CREDO_WAIVER_LIMIT_FEN", None))


@transaction.atomic
def waiver_request_approve(*, request: WaiverRequest, actor: Any, note: str = "") -> WaiverRequest:
    """批准 and apply: the waiver is posted (replay) in this same transaction."""
    _require(actor, APPROVE_WAIVER, _("没有审批罚息减免的权限。"))
    req = WaiverRequest.objects.select_for_update().get(pk=request.pk)
    if _decide_guard(req, actor, RequestStatus.APPROVED):
        return req
    if req.requested_by_id == actor.pk:
        raise MakerChecker(_("减免须由申请人以外的人员审批。"))
    limit = waiver_limit_for(actor)
    if limit is not None and req.total.fen > limit:
        raise NotPermitted(
            _("减免合计 %(a)s 元超过您的审批权限 %(l)s 元，请提交更高权限人员审批。")
            % {"a": _yuan(req.total.fen), "l": _yuan(limit)}
        )
    # the loan locked before what it owes is checked: no repayment slips in between
    loan = _locked_loan(req.loan)
    if loan.status not in LOAN_OPEN_STATES:
        raise InvalidState(_("贷款状态为“%(s)s”，不能减免。") % {"s": loan.get_status_display()})
    amounts = {c: int(v) for c, v in req.amounts.items()}
    try:
        _check_against_owed(loan, amounts, req.value_date)
    except InvalidLoan as exc:
        raise InvalidState(exc.message + _("（应还已变化，请拒绝后重新申请）")) from None
    from credo.lending.replay import service as replay_service

    try:
        waiver = replay_service.post_waiver(
            loan,
            amounts=amounts,
            value_date=req.value_date,
            actor=req.requested_by,
            approved_by=actor,
            reason=f"减免申请#{req.pk}：{req.reason}"[:200],
        )
    except ValueError as exc:  # the engine's ReplayError: what it refuses, readable
        raise InvalidState(str(exc)) from None
    req.decided_by = actor
    req.decided_at = timezone.now()
    req.decision_note = (note or "").strip()[:200]
    req.waiver_ref = getattr(waiver, "pk", None)
    fsm.transition(
        req,
        RequestStatus.APPROVED,
        actor=actor,
        action="waiver.approve",
        metadata={"loan": loan.number, "amounts": amounts, "waiver": req.waiver_ref},
        update_fields=["decided_by", "decided_at", "decision_note", "waiver_ref"],
    )
    record_event(
        customer=loan.customer,
        kind="decision",
        actor=actor,
        obj=loan,
        source="lending",
        title=_("贷款 %(n)s 罚息减免 %(a)s 元已批准并入账")
        % {"n": loan.number, "a": _yuan(req.total.fen)},
        detail={"waiver_request": req.pk, "amounts": amounts, "waiver": req.waiver_ref},
    )
    _close_todos(_todo_key("waiver", req.pk), decider=actor)
    return req


def _reject(
    model: Any,
    request: Any,
    actor: Any,
    note: str,
    *,
    kind: str,
    perm: str,
    no_perm: str,
    title: str,
) -> Any:
    """拒绝 of a request (both workflows): a second person with ``perm``, a reason required;
    audited through the machine, a timeline event, the approvers' todos closed."""
    _require(actor, perm, no_perm)
    note = (note or "").strip()
    if not note:
        raise InvalidLoan(_("请填写拒绝原因。"))
    req = model.objects.select_for_update().get(pk=request.pk)
    if _decide_guard(req, actor, RequestStatus.REJECTED):
        return req
    if req.requested_by_id == actor.pk:
        raise MakerChecker(_("申请人不能审批自己的申请，请使用“撤回”。"))
    req.decided_by = actor
    req.decided_at = timezone.now()
    req.decision_note = note[:200]
    fsm.transition(
        req,
        RequestStatus.REJECTED,
        actor=actor,
        action=f"{kind}.reject",
        metadata={"note": req.decision_note},
        update_fields=["decided_by", "decided_at", "decision_note"],
    )
    loan = Loan.objects.select_related("customer").get(pk=req.loan_id)
    record_event(
        customer=loan.customer,
        kind="decision",
        actor=actor,
        obj=loan,
        source="lending",
        title=title % {"n": loan.number, "r": req.decision_note},
        detail={f"{kind}_request": req.pk},
    )
    _close_todos(_todo_key(kind, req.pk), decider=actor)
    return req


def _cancel(model: Any, request: Any, actor: Any, *, kind: str, title: str) -> Any:
    """撤回: only the requester, only while it waits (both workflows)."""
    req = model.objects.select_for_update().get(pk=request.pk)
    if req.requested_by_id != getattr(actor, "pk", None):
        raise NotPermitted(_("只有申请人可以撤回申请。"))
    if req.status == RequestStatus.CANCELLED:
        return req
    if req.status != RequestStatus.REQUESTED:
        raise InvalidState(_("该申请已处理（%(s)s）。") % {"s": req.get_status_display()})
    req.decided_at = timezone.now()
    fsm.transition(
        req,
        RequestStatus.CANCELLED,
        actor=actor,
        action=f"{kind}.cancel",
        update_fields=["decided_at"],
    )
    loan = Loan.objects.select_related("customer").get(pk=req.loan_id)
    record_event(
        customer=loan.customer,
        kind="other",
        actor=actor,
        obj=loan,
        source="lending",
        title=title % {"n": loan.number},
        detail={f"{kind}_request": req.pk},
    )
    _close_todos(_todo_key(kind, req.pk), decider=None)
    return req


@transaction.atomic
def waiver_request_reject(*, request: WaiverRequest, actor: Any, note: str) -> WaiverRequest:
    return _reject(
        WaiverRequest,
        request,
        actor,
        note,
        kind="waiver",
        perm=APPROVE_WAIVER,
        no_perm=_("没有审批罚息减免的权限。"),
        title=_("贷款 %(n)s 罚息减免申请被拒绝：%(r)s"),
    )


@transaction.atomic
def waiver_request_cancel(*, request: WaiverRequest, actor: Any) -> WaiverRequest:
    """撤回: only the requester, only while it waits."""
    return _cancel(
        WaiverRequest, request, actor, kind="waiver", title=_("贷款 %(n)s 罚息减免申请已撤回")
    )


# ---------------------------------------------------------------- 人工分类调整


def default_until(today: dt.date) -> dt.date:
    return rules.add_months(today, DEFAULT_FLOOR_MONTHS)


def _on_time_by(loan: Loan) -> Any:
    """The last day a period may be paid and still count as on time: the due date moved by
    the product's holiday rule (节假日顺延) plus the grace days — what the close of business uses."""
    grace = dt.timedelta(days=loan.grace_days or 0)
    try:
        from credo.core.holidays import load_calendar
        from credo.lending.replay import engine
        from credo.lending.replay import service as replay_service

        terms, calendar = replay_service.loan_terms(loan), load_calendar()
        return lambda due: engine.effective_due(terms, due, calendar) + grace
    except Exception:  # noqa: BLE001 - no calendar: the contractual date
        return lambda due: due + grace


def upgrade_check(loan: Loan, today: dt.date) -> rules.UpgradeCheck:
    """The regulatory upgrade condition for a 不良 loan, from its installments."""
    on_time_by = _on_time_by(loan)
    periods = [
        rules.Period(
            due_date=on_time_by(i.due_date), paid_on=i.paid_on if i.status == "paid" else None
        )
        for i in Installment.objects.filter(loan=loan).only("due_date", "paid_on", "status")
    ]
    return rules.upgrade_condition(
        periods, today=today, start=loan.start_date or today, dpd=loan.dpd
    )


def upgrade_refusal(check: rules.UpgradeCheck) -> str:
    if check.code == "arrears":
        return _("不良贷款上调分类须先还清全部逾期欠款（当前仍有逾期）。")
    if check.code == "periods":
        return _(
            "不良贷款上调分类须在欠款还清后连续至少两个还款期按时足额还款"
            "（目前按时还款 %(n)s 期）。"
        ) % {"n": check.on_time_periods}
    return _("不良贷款上调分类须在欠款还清后观察至少 6 个月，最早 %(d)s 可上调。") % {
        "d": check.earliest.isoformat() if check.earliest else "—"
    }


def _check_class_target(loan: Loan, to_class: str, today: dt.date) -> None:
    if to_class not in Loan.Classification.values:
        raise InvalidLoan(_("请选择有效的五级分类。"))
    if to_class == loan.classification:
        raise InvalidLoan(_("调整后的分类与当前分类相同。"))
    if loan.classification in rules.NON_PERFORMING and rules.is_upgrade(
        loan.classification, to_class
    ):
        check = upgrade_check(loan, today)
        if not check.ok:
            raise InvalidState(upgrade_refusal(check))


@transaction.atomic
def classification_request_create(
    *,
    loan: Loan,
    actor: Any,
    to_class: str,
    reason: str,
    until: dt.date | None = None,
) -> ClassificationRequest:
    """申请人工分类调整 (default: the class holds 6 months)."""
    _require(actor, REQUEST_CLASS, _("没有申请人工分类调整的权限。"))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidLoan(_("请填写调整原因。"))
    locked = _locked_loan(loan)
    if locked.status not in LOAN_OPEN_STATES:
        raise InvalidState(
            _("贷款状态为“%(s)s”，不能调整分类。") % {"s": locked.get_status_display()}
        )
    today = clock.today()
    until = until or default_until(today)
    if until <= today:
        raise InvalidLoan(_("有效期须晚于今天。"))
    _check_class_target(locked, to_class, today)
    if ClassificationRequest.objects.filter(loan=locked, status=RequestStatus.REQUESTED).exists():
        raise InvalidState(_("该贷款已有待审批的分类调整申请，请先处理。"))
    req = ClassificationRequest.objects.create(
        loan=locked,
        from_class=locked.classification,
        to_class=to_class,
        until=until,
        dpd=locked.dpd,
        reason=reason,
        requested_by=actor,
    )
    audit_record(
        action="classification.request",
        actor=actor,
        obj=req,
        metadata={
            "loan": locked.number,
            "from": req.from_class,
            "to": to_class,
            "until": until.isoformat(),
            "reason": reason,
        },
    )
    record_event(
        customer=locked.customer,
        kind="other",
        actor=actor,
        obj=locked,
        source="lending",
        title=_("贷款 %(n)s 申请五级分类调整：%(a)s → %(b)s（待审批）")
        % {"n": locked.number, "a": req.get_from_class_display(), "b": req.get_to_class_display()},
        detail={"classification_request": req.pk, "reason": reason},
    )
    _open_todos(
        "classification",
        approvers_for(locked, APPROVE_CLASS, exclude=actor),
        title=_("审批五级分类调整：贷款 %(n)s，%(a)s → %(b)s")
        % {"n": locked.number, "a": req.get_from_class_display(), "b": req.get_to_class_display()},
        url=reverse("lending:servicing:class_detail", args=[req.pk]),
        key=_todo_key("classification", req.pk),
        actor=actor,
    )
    return req


def _write_class_history(loan: Loan, *, day: dt.date, before: str, after: str) -> None:
    from django.apps import apps

    try:
        history = apps.get_model("lending", "LoanClassHistory")
    except LookupError:  # the replay helper's model not installed
        return
    history.objects.create(
        loan=loan, date=day, from_class=before, to_class=after, dpd=loan.dpd, reason="manual"
    )


def has_floor_fields() -> bool:
    names = {f.name for f in Loan._meta.get_fields()}
    return {"classification_floor", "classification_floor_until"} <= names


@transaction.atomic
def classification_request_approve(
    *, request: ClassificationRequest, actor: Any, note: str = ""
) -> ClassificationRequest:
    """批准: the loan's class changes now; a downgrade holds as a floor until ``until`` (the
    close of business never classifies it better before then); an upgrade of a 不良 loan only
    when the regulatory condition holds."""
    _require(actor, APPROVE_CLASS, _("没有审批人工分类调整的权限。"))
    req = ClassificationRequest.objects.select_for_update().get(pk=request.pk)
    if _decide_guard(req, actor, RequestStatus.APPROVED):
        return req
    if req.requested_by_id == actor.pk:
        raise MakerChecker(_("分类调整须由申请人以外的人员审批。"))
    loan = _locked_loan(req.loan)
    if loan.status not in LOAN_OPEN_STATES:
        raise InvalidState(
            _("贷款状态为“%(s)s”，不能调整分类。") % {"s": loan.get_status_display()}
        )
    today = clock.today()
    before = loan.classification
    if before != req.to_class:
        _check_class_target(loan, req.to_class, today)
    fields = ["classification", "version"]
    loan.classification = req.to_class
    if has_floor_fields():
        if rules.is_upgrade(before, req.to_class):
            loan.classification_floor = ""  # type: ignore[attr-defined]
            loan.classification_floor_until = None  # type: ignore[attr-defined]
        else:
            loan.classification_floor = req.to_class  # type: ignore[attr-defined]
            loan.classification_floor_until = req.until  # type: ignore[attr-defined]
        fields += ["classification_floor", "classification_floor_until"]
    loan.version += 1
    loan.save(update_fields=fields)
    _write_class_history(loan, day=today, before=before, after=req.to_class)
    audit_record(
        action="loan.classification_manual",
        actor=actor,
        obj=loan,
        changes={"classification": [before, req.to_class]},
        metadata={"request": req.pk, "until": req.until.isoformat() if req.until else None},
    )
    req.decided_by = actor
    req.decided_at = timezone.now()
    req.decision_note = (note or "").strip()[:200]
    fsm.transition(
        req,
        RequestStatus.APPROVED,
        actor=actor,
        action="classification.approve",
        metadata={"loan": loan.number, "from": before, "to": req.to_class},
        update_fields=["decided_by", "decided_at", "decision_note"],
    )
    record_event(
        customer=loan.customer,
        kind="decision",
        actor=actor,
        obj=loan,
        source="lending",
        title=_("贷款 %(n)s 五级分类人工调整为“%(b)s”（原“%(a)s”）")
        % {
            "n": loan.number,
            "a": ClassificationRequest(from_class=before).get_from_class_display(),
            "b": req.get_to_class_display(),
        },
        detail={"classification_request": req.pk, "reason": req.reason},
    )
    _close_todos(_todo_key("classification", req.pk), decider=actor)
    return req


@transaction.atomic
def classification_request_reject(
    *, request: ClassificationRequest, actor: Any, note: str
) -> ClassificationRequest:
    return _reject(
        ClassificationRequest,
        request,
        actor,
        note,
        kind="classification",
        perm=APPROVE_CLASS,
        no_perm=_("没有审批人工分类调整的权限。"),
        title=_("贷款 %(n)s 分类调整申请被拒绝：%(r)s"),
    )


@transaction.atomic
def classification_request_cancel(
    *, request: ClassificationRequest, actor: Any
) -> ClassificationRequest:
    return _cancel(
        ClassificationRequest,
        request,
        actor,
        kind="classification",
        title=_("贷款 %(n)s 分类调整申请已撤回"),
    )
