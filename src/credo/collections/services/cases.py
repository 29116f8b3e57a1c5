"""The after-EOD case batch: open, re-tier and close cases from the loans' DPD, the tier's
actions (timeline, SMS, call todos, lawyer's letters) and the amount overdue of a loan.

Set-based throughout: the number of queries of :func:`cases_refresh` does not grow with the
number of cases (tested), only with ``BATCH``-sized chunks of very large days."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    ExpressionWrapper,
    F,
    OuterRef,
    Subquery,
    Sum,
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
from credo.collections.services.assignment import Assigner, scripts_all, team_of
from credo.collections.services.promises import promises_check
from credo.collections.services.reminders import send_notices
from credo.collections.strategy import KEY as STRATEGY_KEY
from credo.collections.strategy import inputs_for
from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.core.bulk import json_bulk_update
from credo.core.money import fen_of, format_fen
from credo.core.todo import states as _todo_states  # noqa: F401 — registers the Todo machine
from credo.core.todo.models import Todo
from credo.customers.models import CustomerEvent
from credo.lending.models import Installment, Loan, owed_expression
from credo.lending.states import LOAN_OPEN_STATES
from credo.notify.services import Notice

TODO_DIGEST_OVER = 20
TIER_RANK = {Tier.SMS: 1, Tier.CALL_JUNIOR: 2, Tier.SENIOR_LETTER: 3, Tier.LEGAL: 4}
BATCH = 2000
TODO_FIELDS = ["title", "description", "due_date", "url", "source"]
# what the tier actions report (added to the batch's counts)
ACTION_COUNTS = (
    "events",
    "messages_queued",
    "messages_suppressed",
    "messages_failed",
    "messages_refused",
    "messages_dnc",
    "todos_created",
    "todos_updated",
    "todos_cancelled",
    "letters_created",
)
# what the tier actions read of a loan and its borrower (notify needs phone and risk flags)
LOAN_FIELDS = (
    "id",
    "number",
    "dpd",
    "customer_id",
    "customer__id",
    "customer__name",
    "customer__phone",
    "customer__risk_flags",
)
CASE_COUNTS = ("opened", "retiered", "closed", "updated", "broken_promises")


# --- the after-EOD batch -------------------------------------------------------------------------
def cases_refresh(business_date: dt.date, *, actor: Any = None) -> dict[str, int]:
    """Open, re-tier and close cases from the loans' DPD after EOD, set-based, in one
    transaction; idempotent: a re-run for the same state changes nothing and sends nothing
    (every message has a dedupe key per case). Returns the counts (also in the batch's one
    audit entry ``collections.cases_refreshed``)."""
    from credo.rules.services import published_version

    counts = dict.fromkeys(CASE_COUNTS + ACTION_COUNTS, 0)
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
            "team_id",
            "dpd",
            "amount",
            "broken_promises",
        )
    }
    new_cases, changed, reassigned, overdue_ids = _plan(
        overdue, open_cases, business_date=business_date, version=version
    )
    transitions: dict[str, list[int]] = {}
    with transaction.atomic():
        if new_cases:
            new_cases = CollectionCase.objects.bulk_create(new_cases, batch_size=BATCH)
            counts["opened"] = len(new_cases)
            if not all(c.pk for c in new_cases):  # a backend that cannot return the ids
                new_cases = list(
                    CollectionCase.objects.filter(
                        loan_id__in=[c.loan_id for c in new_cases], opened_on=business_date
                    )
                    .exclude(status=CollectionCase.Status.CLOSED)
                    .select_related("assignee")
                )
        if changed:
            transitions.update(_retier(changed))
            counts["retiered"] = len(changed)
        counts["updated"] = _follow_loans()
        closing = [c for lid, c in open_cases.items() if lid not in overdue_ids]
        counts["closed"], counts["todos_cancelled"] = _close_cases(closing)
        for c in closing:
            transitions.setdefault(f"{c.status}>{CollectionCase.Status.CLOSED}", []).append(c.pk)
        done = _tier_actions(
            [(c, "") for c in new_cases] + changed,
            business_date=business_date,
            actor=actor,
            reassigned=reassigned,
        )
        for k, v in done.items():
            counts[k] += v
        counts["broken_promises"] = promises_check(business_date)
        if any(v for k, v in counts.items() if k != "updated"):
            audit_record(
                action="collections.cases_refreshed",
                actor=actor,
                object_type="collections.batch",
                object_id=business_date.isoformat(),
                # every status change of the batch, as "from>to": [case ids]; the counts of the
                # tier actions (messages, todos, letters) replace one audit row per message/todo
                metadata={
                    "business_date": business_date.isoformat(),
                    **counts,
                    "transitions": transitions,
                },
            )
    return counts


def _follow_loans() -> int:
    """DPD / amount / priority of every open case follow its loan, in one set-based UPDATE that
    writes only the cases whose loan changed (a re-run writes nothing). Returns the rows
    changed. PostgreSQL: ``UPDATE … FROM`` the loans (a join); elsewhere correlated subqueries."""
    cases = CollectionCase._meta.db_table
    if connection.vendor == "postgresql":
        loans = Loan._meta.db_table
        with connection.cursor() as cur:
            cur.execute(
                f"UPDATE {cases} c SET dpd = l.dpd, amount = l.outstanding_principal, "  # noqa: S608 — fixed names
                "priority = l.dpd::bigint * l.outstanding_principal * (c.broken_promises + 1), "
                "updated_at = %s "
                f"FROM {loans} l WHERE l.id = c.loan_id AND c.status <> %s AND ("
                "c.dpd <> l.dpd OR c.amount <> l.outstanding_principal OR c.priority <> "
                "l.dpd::bigint * l.outstanding_principal * (c.broken_promises + 1))",
                [timezone.now(), CollectionCase.Status.CLOSED],
            )
            return int(cur.rowcount)
    loan = Loan.objects.filter(pk=OuterRef("loan_id"))
    dpd = Subquery(loan.values("dpd")[:1])
    amount = Subquery(loan.values("outstanding_principal")[:1])
    open_cases = CollectionCase.objects.exclude(status=CollectionCase.Status.CLOSED)
    changed = open_cases.exclude(dpd=dpd, amount=amount)
    n = changed.update(dpd=dpd, amount=amount, updated_at=timezone.now())
    open_cases.update(
        priority=ExpressionWrapper(
            F("dpd") * F("amount") * (F("broken_promises") + 1), output_field=BigIntegerField()
        )
    )
    return n


def _plan(
    overdue: list[tuple[Any, ...]],
    open_cases: dict[int, CollectionCase],
    *,
    business_date: dt.date,
    version: Any,
) -> tuple[list[CollectionCase], list[tuple[CollectionCase, str]], dict[int, int], set[int]]:
    """The strategy over the overdue loans (one evaluation per distinct input): the cases to
    open, the (case, previous tier) pairs whose tier changes, case id → the previous assignee
    of a case that changes hands, and the ids of the overdue loans."""
    from credo.rules.services import run_version

    memo: dict[tuple[Any, ...], tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    assigner = Assigner()
    new_cases: list[CollectionCase] = []
    changed: list[tuple[CollectionCase, str]] = []
    reassigned: dict[int, int] = {}  # case id → previous assignee id
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
                if case.assignee_id is not None:
                    reassigned[case.pk] = case.assignee_id
                case.assignee = assigner.pick(tier)
                case.team = team_of(case.assignee)
            changed.append((case, previous))
    return new_cases, changed, reassigned, overdue_ids


def _retier(changed: list[tuple[CollectionCase, str]]) -> dict[str, list[int]]:
    """Write the new tiers (one bulk UPDATE) and the status changes they cause through the case
    machine (one UPDATE per (from, to) pair). Returns the transitions "from>to": [case ids]."""
    transitions: dict[str, list[int]] = {}
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
    json_bulk_update(
        [c for c, _p in changed],
        ["tier", "action", "strategy_version", "reasons", "assignee", "team"],
    )
    # Status changes through the case machine, one UPDATE per (from, to) pair.
    for pair, ids in transitions.items():
        before, target = pair.split(">")
        fsm.transition_queryset(CollectionCase.objects.filter(pk__in=ids), target, sources=[before])
    return transitions


def _close_cases(cases: list[CollectionCase]) -> tuple[int, int]:
    """Close cured / paid / written-off cases: one UPDATE per close reason, pending promises
    kept, open call todos cancelled, timeline events in bulk. Returns (closed, todos cancelled)."""
    if not cases:
        return 0, 0
    status: dict[int, str] = {}
    loan_ids = sorted({c.loan_id for c in cases})
    for start in range(0, len(loan_ids), BATCH):
        status.update(
            Loan.objects.filter(pk__in=loan_ids[start : start + BATCH]).values_list("id", "status")
        )
    reason_of: dict[str | None, str] = {
        Loan.Status.WRITTEN_OFF: CollectionCase.CloseReason.WRITTEN_OFF,
    }
    now = timezone.now()
    by_reason: dict[str, list[int]] = {}
    events = []
    for case in cases:
        reason = reason_of.get(status.get(case.loan_id), CollectionCase.CloseReason.PAID)
        by_reason.setdefault(reason, []).append(case.pk)
        events.append(
            CustomerEvent(
                customer_id=case.customer_id,
                kind=CustomerEvent.Kind.COLLECTION,
                occurred_at=now,
                title=_("催收案件结案：%(r)s") % {"r": CollectionCase.CloseReason(reason).label},
                detail={"case": case.pk, "reason": reason},
                source="collections",
                object_type="collections.collectioncase",
                object_id=str(case.pk),
            )
        )
    for reason, ids in by_reason.items():
        for start in range(0, len(ids), BATCH):
            fsm.transition_queryset(
                CollectionCase.objects.filter(pk__in=ids[start : start + BATCH]),
                CollectionCase.Status.CLOSED,
                sources=states.sources(states.Event.CLOSE),
                closed_at=now,
                close_reason=reason,
            )
    ids = [c.pk for c in cases]
    for start in range(0, len(ids), BATCH):
        fsm.transition_queryset(
            PromiseToPay.objects.filter(case_id__in=ids[start : start + BATCH]),
            PromiseToPay.Status.KEPT,
            sources=[PromiseToPay.Status.PENDING],
            resolved_at=now,
        )
    cancelled = _todos_cancel(dict.fromkeys(ids, []))
    CustomerEvent.objects.bulk_create(events, batch_size=BATCH)
    return len(cases), cancelled


def _tier_actions(
    items: list[tuple[CollectionCase, str]],
    *,
    business_date: dt.date,
    actor: Any = None,
    reassigned: dict[int, int] | None = None,
) -> dict[str, int]:
    """Side effects of cases entering a tier, set-based: timeline events in one bulk insert,
    the SMS tier's messages through one ``notify_many`` call (amounts from one grouped query),
    call todos upserted in bulk, lawyer's letter rows in one insert. ``reassigned`` maps case id
    → the previous assignee whose open call todo for the case is cancelled."""
    counts = dict.fromkeys(ACTION_COUNTS, 0)
    if not items:
        return counts
    now = timezone.now()
    events = []
    letters = []
    notices = []
    calls: dict[int, list[tuple[CollectionCase, Loan, str]]] = {}
    scripts = scripts_all()
    sms_items = [(c, p) for c, p in items if c.tier == Tier.SMS]
    dnc_customers = (
        set(
            DoNotContact.objects.filter(
                customer_id__in={c.customer_id for c, _p in sms_items}, phone_key=""
            ).values_list("customer_id", flat=True)
        )
        if sms_items
        else set()
    )
    loans = (
        Loan.objects.select_related("customer")
        .only(*LOAN_FIELDS)
        .in_bulk({c.loan_id for c, _p in items})
    )
    owed = overdue_amounts([c.loan_id for c, _p in sms_items]) if sms_items else {}
    senior = [c.pk for c, _p in items if c.tier == Tier.SENIOR_LETTER]
    has_letter = (
        set(LawyerLetter.objects.filter(case_id__in=senior).values_list("case_id", flat=True))
        if senior
        else set()
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
            if case.customer_id in dnc_customers:
                counts["messages_dnc"] += 1
            else:
                notices.append(
                    Notice(
                        template="collections.overdue",
                        customer=loan.customer,
                        dedupe_key=f"collection:{case.pk}:sms",
                        context={
                            "name": loan.customer.name,
                            "loan_number": loan.number,
                            "dpd": loan.dpd,
                            "amount": format_fen(owed.get(loan.pk, 0)),
                        },
                    )
                )
        elif case.tier in (Tier.CALL_JUNIOR, Tier.SENIOR_LETTER) and case.assignee_id:
            calls.setdefault(case.assignee_id, []).append((case, loan, url))
        if case.tier == Tier.SENIOR_LETTER and case.pk not in has_letter:
            letters.append(LawyerLetter(case=case))
    CustomerEvent.objects.bulk_create(events, batch_size=BATCH)
    LawyerLetter.objects.bulk_create(letters, batch_size=BATCH)
    counts["letters_created"] = len(letters)
    counts["events"] = len(events)
    sent = send_notices(notices, category="collection", actor=actor, now=now)
    counts["messages_queued"] = sent.queued
    counts["messages_suppressed"] = sent.suppressed
    counts["messages_failed"] = sent.failed
    counts["messages_refused"] = sent.refused
    if reassigned:
        counts["todos_cancelled"] += _todos_cancel(
            {pk: [user_id] for pk, user_id in reassigned.items()}
        )
    created, updated = _call_todos(calls, scripts=scripts, business_date=business_date)
    counts["todos_created"] += created
    counts["todos_updated"] += updated
    return counts


def _call_todos(
    calls: dict[int, list[tuple[CollectionCase, Loan, str]]],
    *,
    scripts: dict[str, str],
    business_date: dt.date,
) -> tuple[int, int]:
    """A call todo per case with the tier's script; a collector who receives more than
    ``TODO_DIGEST_OVER`` cases in one batch gets one digest todo instead (the workbench, sorted
    by priority, is the task list — hundreds of todos would bury everything else). Upserted in
    bulk by (user, dedupe key) like ``todo_create`` does one by one. Returns (created, updated)."""
    due = business_date + dt.timedelta(days=1)
    todos: list[Todo] = []
    workbench = reverse("collections:workbench")
    for user_id, items in calls.items():
        if len(items) > TODO_DIGEST_OVER:
            numbers = "、".join(loan.number for _c, loan, _u in items[:10])
            todos.append(
                Todo(
                    user_id=user_id,
                    title=(
                        _("催收任务：%(d)s 新增/升级 %(n)d 件案件待电话跟进")
                        % {"d": business_date.isoformat(), "n": len(items)}
                    )[:200],
                    description=_("按优先级在催收工作台处理。案件：%(l)s 等。\n\n%(s)s")
                    % {"l": numbers, "s": scripts[Tier.CALL_JUNIOR]},
                    due_date=due,
                    url=workbench,
                    source="collections",
                    dedupe_key=f"collections:digest:{user_id}:{business_date.isoformat()}",
                )
            )
            continue
        for case, loan, url in items:
            todos.append(
                Todo(
                    user_id=user_id,
                    title=(
                        _("催收电话：%(c)s（%(l)s，逾期 %(d)d 天）")
                        % {"c": loan.customer.name, "l": loan.number, "d": loan.dpd}
                    )[:200],
                    description=scripts[case.tier],
                    due_date=due,
                    url=url,
                    source="collections",
                    dedupe_key=f"collections:case:{case.pk}",
                )
            )
    return _todos_upsert(todos)


def _todos_upsert(todos: list[Todo]) -> tuple[int, int]:
    """``todo_create`` for many todos at once: new (user, dedupe key) pairs are bulk-inserted,
    existing ones get the new details (one bulk UPDATE) and are re-opened when cancelled (one
    set-based transition); a done todo stays done. Returns (created, updated)."""
    if not todos:
        return 0, 0
    wanted = {(t.user_id, t.dedupe_key): t for t in todos}
    existing: dict[tuple[int, str | None], Todo] = {}
    keys = sorted({str(t.dedupe_key) for t in todos})
    for start in range(0, len(keys), BATCH):
        for row in Todo.objects.filter(dedupe_key__in=keys[start : start + BATCH]):
            if (row.user_id, row.dedupe_key) in wanted:
                existing[(row.user_id, row.dedupe_key)] = row
    new = [t for k, t in wanted.items() if k not in existing]
    # ON CONFLICT DO NOTHING: a todo a concurrent writer created first is kept as it is
    Todo.objects.bulk_create(new, ignore_conflicts=True, batch_size=BATCH)
    changed, reopen = [], []
    for key, row in existing.items():
        todo = wanted[key]
        if any(getattr(row, f) != getattr(todo, f) for f in TODO_FIELDS):
            for f in TODO_FIELDS:
                setattr(row, f, getattr(todo, f))
            changed.append(row)
        if row.status == Todo.Status.CANCELLED:
            reopen.append(row.pk)
    Todo.objects.bulk_update(changed, TODO_FIELDS, batch_size=BATCH)
    if reopen:
        fsm.transition_queryset(
            Todo.objects.filter(pk__in=reopen),
            Todo.Status.OPEN,
            sources=[Todo.Status.CANCELLED],
            done_at=None,
        )
    return len(new), len({r.pk for r in changed} | set(reopen))


def _todos_cancel(users_by_case: dict[int, list[int]]) -> int:
    """Cancel the open call todos of these cases (``collections:case:<id>``) held by the given
    users (``[]`` = whoever holds them): set-based transitions, one per user (and chunk)."""
    anyone: list[str] = []
    per_user: dict[int, list[str]] = {}
    for pk, users in users_by_case.items():
        key = f"collections:case:{pk}"
        if not users:
            anyone.append(key)
        for uid in users:
            per_user.setdefault(uid, []).append(key)
    groups: list[tuple[int | None, list[str]]] = [(None, anyone), *per_user.items()]
    n = 0
    for holder, keys in groups:
        for start in range(0, len(keys), BATCH):
            qs = Todo.objects.filter(dedupe_key__in=keys[start : start + BATCH])
            if holder is not None:
                qs = qs.filter(user_id=holder)
            n += fsm.transition_queryset(qs, Todo.Status.CANCELLED, sources=[Todo.Status.OPEN])
    return n


def overdue_amounts(loan_ids: list[int]) -> dict[int, int]:
    """:func:`overdue_amount` of many loans in one grouped query (per ``BATCH`` loans): loan id →
    fen owed on its due and overdue installments; loans owing nothing are absent."""
    ids = sorted(set(loan_ids))
    out: dict[int, int] = {}
    for start in range(0, len(ids), BATCH):
        rows = (
            Installment.objects.filter(
                loan_id__in=ids[start : start + BATCH],
                status__in=(Installment.Status.DUE, Installment.Status.OVERDUE),
            )
            .values("loan_id")
            .annotate(owed=Sum(owed_expression()))
            .values_list("loan_id", "owed")
        )
        out.update({loan_id: int(owed or 0) for loan_id, owed in rows})
    return out


def overdue_amount(loan: Loan) -> int:
    """What the borrower owes on the loan's due and overdue installments (penalty and fee
    included), in fen."""
    return Installment.objects.filter(
        loan=loan, status__in=(Installment.Status.DUE, Installment.Status.OVERDUE)
    ).owed_total()
