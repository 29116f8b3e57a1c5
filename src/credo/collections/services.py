"""Collections services: reminders, the after-EOD case batch, contacts under compliance
guardrails, promises to pay, do-not-contact, reassignment, scripts and lawyer's letters."""

from __future__ import annotations

import datetime as dt
import heapq
import logging
from collections import Counter
from typing import Any

from django.db import transaction
from django.db.models import (
    BigIntegerField,
    Count,
    ExpressionWrapper,
    F,
    OuterRef,
    Subquery,
    Sum,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.collections import guardrails, states
from credo.collections.errors import GuardrailViolation, InvalidInput, InvalidState
from credo.collections.models import (
    Channel,
    CollectionCase,
    CollectionScript,
    ComplianceLog,
    ContactAttempt,
    DoNotContact,
    LawyerLetter,
    Outcome,
    Party,
    PromiseToPay,
    ReminderLog,
    ReminderPolicy,
    Tier,
)
from credo.collections.strategy import KEY as STRATEGY_KEY
from credo.collections.strategy import inputs_for
from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.customers.events import record_event
from credo.customers.models import Contact, Customer, CustomerEvent
from credo.lending.models import Installment, Loan, Posting

log = logging.getLogger(__name__)

DEFAULT_OFFSETS = (3, 1, 0)
OPEN_LOAN_STATES = (Loan.Status.ACTIVE, Loan.Status.OVERDUE, Loan.Status.RESTRUCTURED)
SENIOR_TIERS = (Tier.SENIOR_LETTER, Tier.LEGAL)
TODO_DIGEST_OVER = 20
TIER_RANK = {Tier.SMS: 1, Tier.CALL_JUNIOR: 2, Tier.SENIOR_LETTER: 3, Tier.LEGAL: 4}

DEFAULT_SCRIPTS = {
    Tier.SMS: gettext_lazy("您好，您在我司的贷款已逾期，请尽快还款以免影响信用记录。"),
    Tier.CALL_JUNIOR: gettext_lazy(
        "1. 核实身份：请问是{借款人}本人吗？\n2. 告知逾期事实与金额，询问原因。\n"
        "3. 请客户给出明确还款日期与金额（承诺还款）。\n4. 提示逾期影响征信与罚息。\n"
        "禁止：威胁、辱骂、向无关第三人透露债务信息。"
    ),
    Tier.SENIOR_LETTER: gettext_lazy(
        "1. 说明逾期已超过 10 天，案件已升级。\n2. 告知我司拟委托律师发送律师函。\n"
        "3. 协商还款方案（分期/展期需走重组审批）。"
    ),
    Tier.LEGAL: gettext_lazy("案件已转入法务/委外队列，后续由法务人员处理。"),
}


def _notify(**kwargs: Any) -> list[Any]:
    """``credo.notify.services.notify`` when the app is installed; never breaks the caller."""
    try:
        from credo.notify.errors import NotifyError
        from credo.notify.services import notify
    except ImportError:  # notify not installed yet
        return []
    try:
        return notify(**kwargs)
    except NotifyError as exc:
        log.warning("collections notify %s failed: %s", kwargs.get("template"), exc)
        return []


def register_templates() -> None:
    try:
        from credo.notify.services import register_template
    except ImportError:
        return
    register_template(
        "collections.reminder",
        name=_("还款提醒"),
        subject="还款提醒",
        body=(
            "{{ name }}，您好：您的贷款 {{ loan_number }} 第 {{ period }} 期应还 {{ amount }} 元，"
            "还款日为 {{ due_date }}，请按时还款。"
        ),
        channels=["sms", "email"],
        sample={
            "name": "张三",
            "loan_number": "L0001",
            "period": 1,
            "amount": "1,000.00",
            "due_date": "2026-01-15",
        },
    )
    register_template(
        "collections.overdue",
        name=_("逾期催收短信"),
        subject="逾期提醒",
        body=(
            "{{ name }}，您好：您的贷款 {{ loan_number }} 已逾期 {{ dpd }} 天，"
            "逾期金额 {{ amount }} 元，请尽快还款，如已还款请忽略。"
        ),
        channels=["sms", "email"],
        sample={"name": "张三", "loan_number": "L0001", "dpd": 2, "amount": "1,000.00"},
    )
    # Third parties are never told debt details: no amount, loan or overdue variables.
    register_template(
        "collections.third_party",
        name=_("第三方转告"),
        subject="请转告",
        body="{{ contact_name }}，您好：请转告{{ name }}尽快与我司联系，谢谢。",
        channels=["sms"],
        sample={"contact_name": "李四", "name": "张三"},
    )


# --- reminders (F1) ------------------------------------------------------------------------------
def reminder_offsets() -> dict[int, list[int]]:
    """product id → offsets (days before the due date) configured in ReminderPolicy."""
    return {p.product_id: [int(o) for o in p.offsets] for p in ReminderPolicy.objects.all()}


def reminders_due(business_date: dt.date) -> list[tuple[int, int]]:
    """(installment id, offset) pairs to remind today and not reminded yet — set-based: one
    query per distinct offset, filtered by product where a policy differs from the default."""
    policies = reminder_offsets()
    offsets = set(DEFAULT_OFFSETS)
    for values in policies.values():
        offsets.update(values)
    pairs: list[tuple[int, int]] = []
    for offset in sorted(offsets):
        qs = Installment.objects.filter(
            due_date=business_date + dt.timedelta(days=offset),
            status__in=(Installment.Status.SCHEDULED, Installment.Status.DUE),
            loan__status__in=OPEN_LOAN_STATES,
        )
        # Products whose policy includes this offset, plus (when the default does) the rest.
        with_offset = [pid for pid, vals in policies.items() if offset in vals]
        without = [pid for pid, vals in policies.items() if offset not in vals]
        if offset in DEFAULT_OFFSETS:
            if without:
                qs = qs.exclude(loan__product_version__product_id__in=without)
        else:
            qs = qs.filter(loan__product_version__product_id__in=with_offset)
        qs = qs.exclude(pk__in=ReminderLog.objects.filter(offset=offset).values("installment_id"))
        pairs.extend((pk, offset) for pk in qs.values_list("pk", flat=True))
    return pairs


def reminders_send(business_date: dt.date, *, send: bool = True) -> int:
    """Send today's reminders; never twice for the same installment and offset (ReminderLog
    unique + the notify dedupe key). Returns the number of reminders newly logged."""
    pairs = reminders_due(business_date)
    if not pairs:
        return 0
    logs = [ReminderLog(installment_id=i, offset=o, business_date=business_date) for i, o in pairs]
    ReminderLog.objects.bulk_create(logs, ignore_conflicts=True, batch_size=2000)
    if not send:
        return len(pairs)
    insts = Installment.objects.select_related("loan", "loan__customer").in_bulk(
        [i for i, _o in pairs]
    )
    sent_ids = []
    for inst_id, offset in pairs:
        inst = insts[inst_id]
        due = (
            inst.principal_due
            + inst.interest_due
            + inst.fee_due
            + inst.penalty_due
            - inst.principal_paid
            - inst.interest_paid
            - inst.fee_paid
            - inst.penalty_paid
        )
        msgs = _notify(
            template="collections.reminder",
            customer=inst.loan.customer,
            category="service",
            dedupe_key=f"reminder:{inst.pk}:{offset}",
            context={
                "name": inst.loan.customer.name,
                "loan_number": inst.loan.number,
                "period": inst.period,
                "amount": _y(due),
                "due_date": inst.due_date.isoformat(),
            },
        )
        if msgs:
            sent_ids.append(inst_id)
    if sent_ids:
        ReminderLog.objects.filter(installment_id__in=sent_ids, business_date=business_date).update(
            sent=True
        )
    return len(pairs)


# --- strategy + assignment -----------------------------------------------------------------------
def script_for(tier: str) -> str:
    script = CollectionScript.objects.filter(tier=tier).first()
    return script.text if script else str(DEFAULT_SCRIPTS.get(tier, ""))


def _collectors() -> dict[str, list[Any]]:
    from credo.accounts.models import User

    out: dict[str, list[Any]] = {}
    for code in ("collector_junior", "collector_senior"):
        out[code] = list(
            User.objects.filter(is_active=True, roles__code=code).distinct().order_by("pk")
        )
    return out


class _Assigner:
    """Round-robin by workload: the collector with the fewest open cases gets the next one."""

    def __init__(self) -> None:
        pools = _collectors()
        load = Counter(
            dict(
                CollectionCase.objects.exclude(status=CollectionCase.Status.CLOSED)
                .exclude(assignee=None)
                .values_list("assignee_id")
                .annotate(n=Count("id"))
                .values_list("assignee_id", "n")
            )
        )
        self.users = {u.pk: u for users in pools.values() for u in users}
        self.heaps: dict[str, list[tuple[int, int]]] = {}
        for code, users in pools.items():
            heap = [(load.get(u.pk, 0), u.pk) for u in users]
            heapq.heapify(heap)
            self.heaps[code] = heap
        self.senior_ids = {u.pk for u in pools["collector_senior"]}

    def pick(self, tier: str) -> Any:
        code = "collector_senior" if tier in SENIOR_TIERS else "collector_junior"
        heap = self.heaps.get(code) or self.heaps.get(
            "collector_junior" if code == "collector_senior" else "collector_senior"
        )
        if not heap:
            return None
        n, uid = heapq.heappop(heap)
        heapq.heappush(heap, (n + 1, uid))
        return self.users[uid]

    def fits(self, tier: str, user_id: int | None) -> bool:
        if user_id is None:
            return False
        if tier in SENIOR_TIERS and self.heaps.get("collector_senior"):
            return user_id in self.senior_ids
        return True


def _team_of(user: Any) -> Any:
    return user.team if user is not None else None


# --- the after-EOD batch -------------------------------------------------------------------------
def cases_refresh(business_date: dt.date, *, actor: Any = None) -> dict[str, int]:
    """Open, re-tier and close cases from the loans' DPD after EOD (set-based; idempotent: a
    re-run for the same state changes nothing)."""
    from credo.rules.services import published_version, run_version

    counts = {"opened": 0, "retiered": 0, "closed": 0, "updated": 0, "broken_promises": 0}
    version = published_version(STRATEGY_KEY)
    overdue = list(
        Loan.objects.filter(status__in=OPEN_LOAN_STATES, dpd__gte=1).values_list(
            "id", "dpd", "outstanding_principal", "customer_id", "customer__risk_grade", "branch_id"
        )
    )
    open_cases = {
        c.loan_id: c
        for c in CollectionCase.objects.exclude(status=CollectionCase.Status.CLOSED).only(
            "id",
            "loan_id",
            "customer_id",
            "tier",
            "status",
            "assignee_id",
            "dpd",
            "amount",
            "broken_promises",
        )
    }
    memo: dict[tuple[Any, ...], tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    assigner = _Assigner()
    new_cases: list[CollectionCase] = []
    changed: list[tuple[CollectionCase, str]] = []
    overdue_ids = set()
    for loan_id, dpd, amount, customer_id, grade, branch_id in overdue:
        overdue_ids.add(loan_id)
        data = inputs_for(dpd=dpd, amount_fen=_fen(amount), risk_grade=grade)
        key = (data["dpd"], data["amount"], data["risk_grade"])
        if key not in memo:
            memo[key] = run_version(version, data)
        result, reasons = memo[key]
        tier = result.get("tier") or ""
        if tier not in TIER_RANK:
            continue
        case = open_cases.get(loan_id)
        if case is None:
            assignee = assigner.pick(tier)
            new_cases.append(
                CollectionCase(
                    loan_id=loan_id,
                    customer_id=customer_id,
                    tier=tier,
                    action=result.get("action") or "",
                    assignee=assignee,
                    team=_team_of(assignee),
                    branch_id=branch_id,
                    dpd=dpd,
                    amount=_fen(amount),
                    priority=dpd * _fen(amount),
                    status=states.tier_status(tier),
                    opened_on=business_date,
                    strategy_version=version,
                    reasons=reasons,
                )
            )
        elif case.tier != tier:
            previous = case.tier
            case.tier = tier
            case.action = result.get("action") or ""
            case.strategy_version = version
            case.reasons = reasons
            if not assigner.fits(tier, case.assignee_id):
                case.assignee = assigner.pick(tier)
                case.team = _team_of(case.assignee)
            changed.append((case, previous))
    transitions: dict[str, list[int]] = {}
    with transaction.atomic():
        if new_cases:
            CollectionCase.objects.bulk_create(new_cases, batch_size=1000)
            counts["opened"] = len(new_cases)
        if changed:
            # The status is taken under a row lock (in pk order): a promise a collector records
            # while the batch runs must not be overwritten by the snapshot read above.
            current = dict(
                CollectionCase.objects.select_for_update()
                .filter(pk__in=[c.pk for c, _p in changed])
                .order_by("pk")
                .values_list("pk", "status")
            )
            for case, _p in changed:
                before = current.get(case.pk, case.status)
                case.status = states.next_status(before, states.tier_event(case.tier))
                if case.status != before:
                    transitions.setdefault(f"{before}>{case.status}", []).append(case.pk)
            CollectionCase.objects.bulk_update(
                [c for c, _p in changed],
                ["tier", "action", "strategy_version", "reasons", "status", "assignee", "team"],
                batch_size=1000,
            )
            counts["retiered"] = len(changed)
        # DPD / amount / priority of every open case follow the loan (two set-based UPDATEs).
        loan = Loan.objects.filter(pk=OuterRef("loan_id"))
        counts["updated"] = CollectionCase.objects.exclude(
            status=CollectionCase.Status.CLOSED
        ).update(
            dpd=Subquery(loan.values("dpd")[:1]),
            amount=Subquery(loan.values("outstanding_principal")[:1]),
        )
        CollectionCase.objects.exclude(status=CollectionCase.Status.CLOSED).update(
            priority=ExpressionWrapper(
                F("dpd") * F("amount") * (F("broken_promises") + 1), output_field=BigIntegerField()
            )
        )
        closing = [c for lid, c in open_cases.items() if lid not in overdue_ids]
        counts["closed"] = _close_cases(closing, actor=actor)
        for c in closing:
            transitions.setdefault(f"{c.status}>{CollectionCase.Status.CLOSED}", []).append(c.pk)
        if new_cases:
            new_cases = list(
                CollectionCase.objects.filter(loan_id__in=[c.loan_id for c in new_cases])
                .exclude(status=CollectionCase.Status.CLOSED)
                .select_related("assignee")
            )
        _tier_actions([(c, "") for c in new_cases] + changed, business_date=business_date)
        counts["broken_promises"] = promises_check(business_date)
        if any(v for k, v in counts.items() if k != "updated"):
            audit_record(
                action="collections.cases_refreshed",
                actor=actor,
                object_type="collections.batch",
                object_id=business_date.isoformat(),
                # every status change of the batch, as "from>to": [case ids]
                metadata={
                    "business_date": business_date.isoformat(),
                    **counts,
                    "transitions": transitions,
                },
            )
    return counts


def _close_cases(cases: list[CollectionCase], *, actor: Any) -> int:
    """Close cured / paid / written-off cases: one UPDATE per close reason, events in bulk;
    only the collectors' open todos are cancelled one by one (through the todo service)."""
    if not cases:
        return 0
    from credo.core.todo.models import Todo
    from credo.core.todo.services import todo_cancel_by_key

    status = dict(
        Loan.objects.filter(pk__in=[c.loan_id for c in cases]).values_list("id", "status")
    )
    reason_of = {
        Loan.Status.WRITTEN_OFF: CollectionCase.CloseReason.WRITTEN_OFF,
        Loan.Status.RESTRUCTURED: CollectionCase.CloseReason.RESTRUCTURED,
    }
    now = timezone.now()
    by_reason: dict[str, list[int]] = {}
    for case in cases:
        reason = reason_of.get(status.get(case.loan_id), CollectionCase.CloseReason.PAID)
        by_reason.setdefault(reason, []).append(case.pk)
    for reason, ids in by_reason.items():
        CollectionCase.objects.filter(
            pk__in=ids, status__in=states.sources(states.Event.CLOSE)
        ).update(status=CollectionCase.Status.CLOSED, closed_at=now, close_reason=reason)
    ids = [c.pk for c in cases]
    PromiseToPay.objects.filter(case_id__in=ids, status=PromiseToPay.Status.PENDING).update(
        status=PromiseToPay.Status.KEPT, resolved_at=now
    )
    keys = {f"collections:case:{pk}": pk for pk in ids}
    open_todos = Todo.objects.filter(
        dedupe_key__in=list(keys), status=Todo.Status.OPEN
    ).select_related("user")
    for todo in open_todos:
        todo_cancel_by_key(user=todo.user, dedupe_key=todo.dedupe_key or "", actor=actor)
    events = []
    for reason, case_ids in by_reason.items():
        label = CollectionCase.CloseReason(reason).label
        for case in (c for c in cases if c.pk in set(case_ids)):
            events.append(
                CustomerEvent(
                    customer_id=case.customer_id,
                    kind=CustomerEvent.Kind.COLLECTION,
                    occurred_at=now,
                    title=_("催收案件结案：%(r)s") % {"r": label},
                    detail={"case": case.pk, "reason": reason},
                    source="collections",
                    object_type="collections.collectioncase",
                    object_id=str(case.pk),
                )
            )
    CustomerEvent.objects.bulk_create(events, batch_size=1000)
    return len(cases)


def _tier_actions(items: list[tuple[CollectionCase, str]], *, business_date: dt.date) -> None:
    """Side effects of a case entering a tier: timeline event + the tier's action."""
    if not items:
        return
    now = timezone.now()
    events = []
    letters = []
    calls: dict[int, list[tuple[CollectionCase, Loan, str]]] = {}
    scripts = {t: script_for(t) for t in TIER_RANK}
    dnc_customers = set(
        DoNotContact.objects.filter(
            customer_id__in={c.customer_id for c, _p in items}, phone_key=""
        ).values_list("customer_id", flat=True)
    )
    loans = Loan.objects.select_related("customer").in_bulk({c.loan_id for c, _p in items})
    has_letter = set(
        LawyerLetter.objects.filter(case_id__in=[c.pk for c, _p in items]).values_list(
            "case_id", flat=True
        )
    )
    detail_url = reverse("collections:case_detail", args=[0]).rsplit("/0/", 1)[0]
    for case, previous in items:
        loan = loans[case.loan_id]
        label = Tier(case.tier).label
        title = (
            _("催收立案：%(t)s（逾期 %(d)d 天）") % {"t": label, "d": loan.dpd}
            if not previous
            else _("催收阶段变更：%(a)s → %(t)s") % {"a": Tier(previous).label, "t": label}
        )
        events.append(
            CustomerEvent(
                customer_id=case.customer_id,
                kind=CustomerEvent.Kind.COLLECTION,
                occurred_at=now,
                title=title,
                detail={
                    "case": case.pk,
                    "tier": case.tier,
                    "previous": previous,
                    "loan": loan.number,
                    "dpd": loan.dpd,
                },
                source="collections",
                object_type="collections.collectioncase",
                object_id=str(case.pk),
            )
        )
        url = f"{detail_url}/{case.pk}/"
        if case.tier == Tier.SMS:
            if case.customer_id not in dnc_customers:
                _notify(
                    template="collections.overdue",
                    customer=loan.customer,
                    category="collection",
                    dedupe_key=f"collection:{case.pk}:sms",
                    context={
                        "name": loan.customer.name,
                        "loan_number": loan.number,
                        "dpd": loan.dpd,
                        "amount": _overdue_amount_str(loan),
                    },
                )
        elif case.tier in (Tier.CALL_JUNIOR, Tier.SENIOR_LETTER) and case.assignee_id:
            calls.setdefault(case.assignee_id, []).append((case, loan, url))
        if case.tier == Tier.SENIOR_LETTER and case.pk not in has_letter:
            letters.append(LawyerLetter(case=case))
    CustomerEvent.objects.bulk_create(events, batch_size=1000)
    LawyerLetter.objects.bulk_create(letters, batch_size=1000)
    _call_todos(calls, scripts=scripts, business_date=business_date)


def _call_todos(
    calls: dict[int, list[tuple[CollectionCase, Loan, str]]],
    *,
    scripts: dict[str, str],
    business_date: dt.date,
) -> None:
    """A call todo per case with the tier's script; a collector who receives more than
    ``TODO_DIGEST_OVER`` cases in one batch gets one digest todo instead (the workbench, sorted
    by priority, is the task list — hundreds of todos would bury everything else)."""
    from credo.core.todo.services import todo_create

    due = business_date + dt.timedelta(days=1)
    for items in calls.values():
        assignee = items[0][0].assignee
        if len(items) > TODO_DIGEST_OVER:
            numbers = "、".join(loan.number for _c, loan, _u in items[:10])
            todo_create(
                user=assignee,
                title=_("催收任务：%(d)s 新增/升级 %(n)d 件案件待电话跟进")
                % {"d": business_date.isoformat(), "n": len(items)},
                description=_("按优先级在催收工作台处理。案件：%(l)s 等。\n\n%(s)s")
                % {"l": numbers, "s": scripts[Tier.CALL_JUNIOR]},
                due_date=due,
                url=reverse("collections:workbench"),
                source="collections",
                dedupe_key=f"collections:digest:{assignee.pk}:{business_date.isoformat()}",
            )
            continue
        for case, loan, url in items:
            todo_create(
                user=assignee,
                title=_("催收电话：%(c)s（%(l)s，逾期 %(d)d 天）")
                % {"c": loan.customer.name, "l": loan.number, "d": loan.dpd},
                description=scripts[case.tier],
                due_date=due,
                url=url,
                source="collections",
                dedupe_key=f"collections:case:{case.pk}",
            )


def overdue_amount(loan: Loan) -> int:
    row = Installment.objects.filter(
        loan=loan, status__in=(Installment.Status.DUE, Installment.Status.OVERDUE)
    ).aggregate(
        due=Sum(F("principal_due") + F("interest_due") + F("fee_due") + F("penalty_due")),
        paid=Sum(F("principal_paid") + F("interest_paid") + F("fee_paid") + F("penalty_paid")),
    )
    return _fen(row["due"] or 0) - _fen(row["paid"] or 0)


def _overdue_amount_str(loan: Loan) -> str:
    return f"{overdue_amount(loan) / 100:,.2f}"


# --- promises --------------------------------------------------------------------------------------
def promises_check(business_date: dt.date) -> int:
    """Promises whose date has passed: kept when the payments since the promise reach the
    amount, otherwise broken (flagged, counted, case re-prioritised). The case leaves 已承诺
    through the transition table (back to its tier's state once no promise is pending).
    Returns the broken count."""
    broken = 0
    due = PromiseToPay.objects.filter(
        status=PromiseToPay.Status.PENDING, promised_date__lt=business_date
    ).values_list("pk", flat=True)
    for promise_id in list(due):
        broken += _promise_resolve(promise_id)
    return broken


@transaction.atomic
def _promise_resolve(promise_id: int) -> int:
    """Resolve one due promise (case row locked first, then the promise); 1 when broken."""
    case_id = PromiseToPay.objects.filter(pk=promise_id).values_list("case_id", flat=True).first()
    if case_id is None:
        return 0
    case = CollectionCase.objects.select_for_update().select_related("customer").get(pk=case_id)
    promise = PromiseToPay.objects.select_for_update().get(pk=promise_id)
    if promise.status != PromiseToPay.Status.PENDING:  # resolved by a concurrent run
        return 0
    paid = _fen(
        Posting.objects.filter(
            loan_id=case.loan_id,
            created_at__gte=promise.created_at,
            reversed_at__isnull=True,
        ).aggregate(s=Sum("amount"))["s"]
    )
    kept = paid >= _fen(promise.amount)
    promise.paid_amount = paid
    promise.resolved_at = timezone.now()
    promise.status = PromiseToPay.Status.KEPT if kept else PromiseToPay.Status.BROKEN
    promise.save(update_fields=["paid_amount", "resolved_at", "status"])
    before = case.status
    if case.is_open:
        pending = case.promises.filter(status=PromiseToPay.Status.PENDING).count()
        event = states.Event.PROMISE_KEPT if kept else states.Event.PROMISE_BROKEN
        case.status = states.next_status(before, event, tier=case.tier, promises_pending=pending)
    fields = ["status", "updated_at"]
    if not kept:
        case.broken_promises += 1
        case.priority = case.dpd * _fen(case.amount) * (case.broken_promises + 1)
        fields += ["broken_promises", "priority"]
    case.save(update_fields=fields)
    changes = {"status": [before, case.status]} if case.status != before else {}
    if kept:
        audit_record(
            action="collections.promise_kept",
            obj=promise,
            changes=changes,
            metadata={"case": case.pk, "paid": paid},
        )
        return 0
    record_event(
        customer=case.customer,
        kind=CustomerEvent.Kind.COLLECTION,
        title=_("还款承诺违约：承诺 %(d)s 还款 %(a)s 元，实还 %(p)s 元")
        % {"d": promise.promised_date, "a": _y(_fen(promise.amount)), "p": _y(paid)},
        source="collections",
        obj=case,
        detail={"promise": promise.pk, "paid": paid},
    )
    audit_record(
        action="collections.promise_broken",
        obj=promise,
        changes=changes,
        metadata={"case": case.pk, "paid": paid},
    )
    return 1


def _y(fen: Any) -> str:
    return f"{_fen(fen) / 100:,.2f}"


def _fen(value: Any) -> int:
    if value is None:
        return 0
    return value.fen if isinstance(value, Money) else int(value)


THIRD_PARTY_TEMPLATE = "{contact_name}，您好：请转告{name}尽快与我司联系，谢谢。"


def third_party_message(*, case: CollectionCase, contact_name: str) -> str:
    """The only text a third party receives: names, never debt details."""
    return THIRD_PARTY_TEMPLATE.format(contact_name=contact_name, name=case.customer.name)


# --- contacts under guardrails -------------------------------------------------------------------
def contact_targets(case: CollectionCase) -> list[dict[str, Any]]:
    """The people a collector may contact: the borrower, then third parties (contacts and
    related customers such as guarantors)."""
    from credo.customers.models import Relation

    customer = case.customer
    out = [
        {
            "party": Party.BORROWER,
            "key": "borrower",
            "name": customer.name,
            "title": _("借款人"),
            "phone": customer.phone,
            "phone_key": customer.phone_bidx or "",
            "contact_id": None,
        }
    ]
    for c in Contact.objects.filter(customer=customer):
        out.append(
            {
                "party": Party.THIRD_PARTY,
                "key": f"contact:{c.pk}",
                "name": c.name,
                "title": c.title,
                "phone": c.phone,
                "phone_key": c.phone_bidx or "",
                "contact_id": c.pk,
            }
        )
    rels = Relation.objects.filter(to_customer=customer).select_related("from_customer")
    for r in rels:
        other = r.from_customer
        out.append(
            {
                "party": Party.THIRD_PARTY,
                "key": f"customer:{other.pk}",
                "name": other.name,
                "title": r.get_kind_display(),
                "phone": other.phone,
                "phone_key": other.phone_bidx or "",
                "contact_id": None,
            }
        )
    return out


def _target(case: CollectionCase, target: str) -> dict[str, Any]:
    for t in contact_targets(case):
        if t["key"] == target:
            return t
    raise InvalidInput(_("联系对象不存在。"))


def _refuse(
    *,
    case: CollectionCase,
    rule: str,
    message: str,
    channel: str,
    party: str,
    now: dt.datetime,
    actor: Any,
    detail: dict[str, Any],
) -> GuardrailViolation:
    """Log a refused attempt in its own transaction (it must survive the refusal)."""
    with transaction.atomic():
        entry = ComplianceLog.objects.create(
            case=case,
            rule=rule,
            message=message,
            channel=channel,
            party=party,
            attempted_at=now,
            detail=detail,
            actor=actor,
        )
        audit_record(
            action="collections.blocked",
            actor=actor,
            obj=case,
            metadata={"rule": rule, "channel": channel, "party": party, "log": entry.pk},
        )
    return GuardrailViolation(message, rule=rule)


def contact_log(
    *,
    case: CollectionCase,
    target: str,
    channel: str,
    outcome: str,
    notes: str = "",
    actor: Any,
    now: dt.datetime | None = None,
) -> ContactAttempt:
    """Record a contact attempt (one-click dial log). Guardrails are checked first; a refused
    attempt is logged (ComplianceLog + audit ``collections.blocked``) and raises."""
    now = now or timezone.now()
    if channel not in Channel.values:
        raise InvalidInput(_("未知的联系方式。"))
    if outcome not in Outcome.values:
        raise InvalidInput(_("未知的联系结果。"))
    if not case.is_open:
        raise InvalidState(_("案件已结案，不能再登记联系。"))
    tgt = _target(case, target)
    if outcome == Outcome.RELAYED and tgt["party"] != Party.THIRD_PARTY:
        raise InvalidInput(_("“第三方转告”只适用于第三方联系人。"))
    # Check and write under a lock on the customer: two collectors dialling the same borrower
    # at once cannot both slip under the daily cap.
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=case.customer_id).first()
        refusal = guardrails.check(
            case=case, channel=channel, party=tgt["party"], phone_key=tgt["phone_key"], now=now
        )
        if refusal is None:
            return _contact_write(
                case=case,
                tgt=tgt,
                channel=channel,
                outcome=outcome,
                notes=notes,
                actor=actor,
                now=now,
            )
    raise _refuse(
        case=case,
        rule=refusal.rule,
        message=refusal.message,
        channel=channel,
        party=tgt["party"],
        now=now,
        actor=actor,
        detail={"target": target},
    )


@transaction.atomic
def _contact_write(
    *,
    case: CollectionCase,
    tgt: dict[str, Any],
    channel: str,
    outcome: str,
    notes: str,
    actor: Any,
    now: dt.datetime,
) -> ContactAttempt:
    case = CollectionCase.objects.select_for_update().get(pk=case.pk)
    attempt = ContactAttempt.objects.create(
        case=case,
        channel=channel,
        party=tgt["party"],
        contact_id=tgt["contact_id"],
        party_name=tgt["name"],
        phone_key=tgt["phone_key"],
        outcome=outcome,
        notes=notes,
        attempted_at=now,
        local_date=guardrails.local(now).date(),
        actor=actor,
    )
    case.last_contact_at = now
    case.save(update_fields=["last_contact_at", "updated_at"])
    if channel == Channel.SMS and tgt["party"] == Party.THIRD_PARTY:
        # What the third party is told: no amount, no loan, no overdue status.
        attempt.notes = (notes + "\n" if notes else "") + third_party_message(
            case=case, contact_name=tgt["name"]
        )
        attempt.save(update_fields=["notes"])
    record_event(
        customer=case.customer,
        kind=CustomerEvent.Kind.COLLECTION,
        title=_("催收联系：%(ch)s %(p)s（%(n)s）— %(o)s")
        % {
            "ch": Channel(channel).label,
            "p": Party(tgt["party"]).label,
            "n": tgt["name"],
            "o": Outcome(outcome).label,
        },
        actor=actor,
        source="collections",
        obj=case,
        detail={
            "case": case.pk,
            "attempt": attempt.pk,
            "channel": channel,
            "party": tgt["party"],
            "outcome": outcome,
        },
    )
    audit_record(
        action="collections.contact",
        actor=actor,
        obj=attempt,
        metadata={"case": case.pk, "channel": channel, "outcome": outcome},
    )
    return attempt


@transaction.atomic
def promise_create(
    *,
    case: CollectionCase,
    promised_date: dt.date,
    amount: Money | int,
    actor: Any,
    today: dt.date | None = None,
) -> PromiseToPay:
    today = today or clock.today()
    amount = _fen(amount)
    if amount <= 0:
        raise InvalidInput(_("承诺金额必须大于 0。"))
    if promised_date < today:
        raise InvalidInput(_("承诺还款日不能早于今天。"))
    if promised_date > today + dt.timedelta(days=60):
        raise InvalidInput(_("承诺还款日不能晚于 60 天后。"))
    case = CollectionCase.objects.select_for_update().get(pk=case.pk)
    if not states.can(case.status, states.Event.PROMISE):
        raise InvalidState(_("案件已结案，不能登记承诺。"))
    before = case.status
    case.status = states.next_status(before, states.Event.PROMISE)
    promise = PromiseToPay.objects.create(
        case=case, promised_date=promised_date, amount=amount, actor=actor
    )
    if case.status != before:
        case.save(update_fields=["status", "updated_at"])
    record_event(
        customer=case.customer,
        kind=CustomerEvent.Kind.COLLECTION,
        title=_("承诺还款：%(d)s 还款 %(a)s 元") % {"d": promised_date, "a": _y(amount)},
        actor=actor,
        source="collections",
        obj=case,
        detail={
            "case": case.pk,
            "promise": promise.pk,
            "amount": amount,
            "date": promised_date.isoformat(),
        },
    )
    audit_record(
        action="collections.promise",
        actor=actor,
        obj=promise,
        changes={"status": [before, case.status]} if case.status != before else {},
        metadata={"case": case.pk, "amount": amount, "date": promised_date.isoformat()},
    )
    return promise


@transaction.atomic
def dnc_create(*, case: CollectionCase, target: str, reason: str, actor: Any) -> DoNotContact:
    """Record a do-not-contact request (``target="all"`` = every number of the customer)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写拒绝联系的原因。"))
    phone_key, masked = "", ""
    if target != "all":
        tgt = _target(case, target)
        if not tgt["phone_key"]:
            raise InvalidInput(_("该联系人没有电话号码。"))
        phone_key = tgt["phone_key"]
        phone = tgt["phone"] or ""
        masked = (phone[:3] + "****" + phone[-4:]) if len(phone) >= 7 else "****"
    dnc = DoNotContact.objects.create(
        customer_id=case.customer_id,
        phone_key=phone_key,
        phone_masked=masked,
        reason=reason[:200],
        actor=actor,
    )
    record_event(
        customer=case.customer,
        kind=CustomerEvent.Kind.COLLECTION,
        title=_("登记拒绝联系：%(r)s") % {"r": reason[:100]},
        actor=actor,
        source="collections",
        obj=case,
        detail={"case": case.pk, "dnc": dnc.pk},
    )
    audit_record(
        action="collections.do_not_contact",
        actor=actor,
        obj=dnc,
        metadata={"case": case.pk, "scope": "all" if not phone_key else "phone"},
    )
    return dnc


@transaction.atomic
def case_reassign(*, case: CollectionCase, assignee: Any, actor: Any) -> CollectionCase:
    if assignee is None or not assignee.is_active:
        raise InvalidInput(_("请选择有效的催收员。"))
    if not ({"collector_junior", "collector_senior"} & set(assignee.role_codes)):
        raise InvalidInput(_("只能分配给催收员。"))
    case = CollectionCase.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise InvalidState(_("案件已结案，不能重新分配。"))
    before = case.assignee_id
    if before == assignee.pk:
        return case
    from credo.core.todo.services import todo_cancel_by_key

    if case.assignee is not None:
        todo_cancel_by_key(user=case.assignee, dedupe_key=f"collections:case:{case.pk}")
    case.assignee = assignee
    case.team = _team_of(assignee)
    case.save(update_fields=["assignee", "team", "updated_at"])
    audit_record(
        action="collections.reassign",
        actor=actor,
        obj=case,
        changes={"assignee": [before, assignee.pk]},
    )
    record_event(
        customer=case.customer,
        kind=CustomerEvent.Kind.COLLECTION,
        title=_("催收案件改派给 %(u)s") % {"u": assignee},
        actor=actor,
        source="collections",
        obj=case,
        detail={"case": case.pk, "assignee": assignee.pk},
    )
    return case


@transaction.atomic
def script_update(*, tier: str, text: str, actor: Any) -> CollectionScript:
    if tier not in Tier.values:
        raise InvalidInput(_("未知的催收阶段。"))
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("话术不能为空。"))
    script, _c = CollectionScript.objects.select_for_update().get_or_create(
        tier=tier, defaults={"text": text, "updated_by": actor}
    )
    before = script.text
    script.text = text
    script.updated_by = actor
    script.save()
    audit_record(
        action="collections.script_update",
        actor=actor,
        obj=script,
        changes={"text": [before, text]},
    )
    return script


# --- lawyer's letter -----------------------------------------------------------------------------
def letter_pdf(*, letter: LawyerLetter, actor: Any) -> bytes:
    """The 律师函 PDF, rendered on first download (WeasyPrint is too slow for the batch)."""
    if letter.pdf:
        return bytes(letter.pdf)
    from django.template.loader import render_to_string

    case = letter.case
    loan = case.loan
    html = render_to_string(
        "collections/letter_pdf.html",
        {
            "case": case,
            "loan": loan,
            "customer": case.customer,
            "overdue": _y(overdue_amount(loan)),
            "outstanding": _y(_fen(loan.outstanding_principal)),
            "today": clock.today(),
        },
    )
    from weasyprint import HTML

    data = HTML(string=html, base_url=None).write_pdf()
    with transaction.atomic():
        LawyerLetter.objects.filter(pk=letter.pk).update(pdf=data, generated_at=timezone.now())
        audit_record(
            action="collections.letter_generated",
            actor=actor,
            obj=case,
            metadata={"letter": letter.pk},
        )
    return data  # type: ignore[no-any-return]
