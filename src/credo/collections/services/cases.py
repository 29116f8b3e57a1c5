"""The after-EOD case batch: open, re-tier and close cases from the loans' DPD, the tier's
actions (timeline, SMS, call todos, lawyer's letters) and the amount overdue of a loan."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import (
    BigIntegerField,
    ExpressionWrapper,
    F,
    OuterRef,
    Subquery,
)
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.collections import states
from credo.collections.models import (
    CollectionCase,
    DoNotContact,
    LawyerLetter,
    PromiseToPay,
    Tier,
)
from credo.collections.services.assignment import Assigner, script_for, team_of
from credo.collections.services.promises import promises_check
from credo.collections.services.reminders import notify_customer
from credo.collections.strategy import KEY as STRATEGY_KEY
from credo.collections.strategy import inputs_for
from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.core.money import fen_of, format_fen
from credo.customers.models import CustomerEvent
from credo.lending.models import Installment, Loan
from credo.lending.states import LOAN_OPEN_STATES

TODO_DIGEST_OVER = 20
TIER_RANK = {Tier.SMS: 1, Tier.CALL_JUNIOR: 2, Tier.SENIOR_LETTER: 3, Tier.LEGAL: 4}


# --- the after-EOD batch -------------------------------------------------------------------------
def cases_refresh(business_date: dt.date, *, actor: Any = None) -> dict[str, int]:
    """Open, re-tier and close cases from the loans' DPD after EOD (set-based; idempotent: a
    re-run for the same state changes nothing)."""
    from credo.rules.services import published_version, run_version

    counts = {"opened": 0, "retiered": 0, "closed": 0, "updated": 0, "broken_promises": 0}
    version = published_version(STRATEGY_KEY)
    overdue = list(
        Loan.objects.filter(status__in=LOAN_OPEN_STATES, dpd__gte=1).values_list(
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
    assigner = Assigner()
    new_cases: list[CollectionCase] = []
    changed: list[tuple[CollectionCase, str]] = []
    overdue_ids = set()
    for loan_id, dpd, amount, customer_id, grade, branch_id in overdue:
        overdue_ids.add(loan_id)
        data = inputs_for(dpd=dpd, amount_fen=fen_of(amount), risk_grade=grade)
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
                    team=team_of(assignee),
                    branch_id=branch_id,
                    dpd=dpd,
                    amount=fen_of(amount),
                    priority=dpd * fen_of(amount),
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
                case.team = team_of(case.assignee)
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
                target = states.next_status(before, states.tier_event(case.tier))
                if target != before:
                    transitions.setdefault(f"{before}>{target}", []).append(case.pk)
            CollectionCase.objects.bulk_update(
                [c for c, _p in changed],
                ["tier", "action", "strategy_version", "reasons", "assignee", "team"],
                batch_size=1000,
            )
            # Status changes through the case machine, one UPDATE per (from, to) pair.
            for pair, ids in transitions.items():
                before, target = pair.split(">")
                fsm.transition_queryset(
                    CollectionCase.objects.filter(pk__in=ids), target, sources=[before]
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
    reason_of: dict[str | None, str] = {
        Loan.Status.WRITTEN_OFF: CollectionCase.CloseReason.WRITTEN_OFF,
    }
    now = timezone.now()
    by_reason: dict[str, list[int]] = {}
    for case in cases:
        reason = reason_of.get(status.get(case.loan_id), CollectionCase.CloseReason.PAID)
        by_reason.setdefault(reason, []).append(case.pk)
    for reason, ids in by_reason.items():
        fsm.transition_queryset(
            CollectionCase.objects.filter(pk__in=ids),
            CollectionCase.Status.CLOSED,
            sources=states.sources(states.Event.CLOSE),
            closed_at=now,
            close_reason=reason,
        )
    ids = [c.pk for c in cases]
    fsm.transition_queryset(
        PromiseToPay.objects.filter(case_id__in=ids),
        PromiseToPay.Status.KEPT,
        sources=[PromiseToPay.Status.PENDING],
        resolved_at=now,
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
    scripts: dict[str, str] = {t: script_for(t) for t in TIER_RANK}
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
                notify_customer(
                    template="collections.overdue",
                    customer=loan.customer,
                    category="collection",
                    dedupe_key=f"collection:{case.pk}:sms",
                    context={
                        "name": loan.customer.name,
                        "loan_number": loan.number,
                        "dpd": loan.dpd,
                        "amount": format_fen(overdue_amount(loan)),
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
        assert assignee is not None  # calls are grouped by assignee_id
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
    """What the borrower owes on the loan's due and overdue installments (penalty and fee
    included), in fen."""
    return Installment.objects.filter(
        loan=loan, status__in=(Installment.Status.DUE, Installment.Status.OVERDUE)
    ).owed_total()
