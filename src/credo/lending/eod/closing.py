"""The per-date work on a range of loans: set-based due/overdue marking, then credit, penalty,
DPD, status and 五级分类 for the loans that need it, written back in one statement per table."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import connection
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.customers.events import record_events_bulk
from credo.lending import ledger
from credo.lending.allocation import (
    allocation_preview,
    apply_allocation,
    due_components,
    is_settled,
    penalty_for_day,
)
from credo.lending.eod.common import UNPAID_DUE, classification_thresholds, classify, empty_counts
from credo.lending.models import Installment, JournalEntry, Loan
from credo.lending.states import LOAN_OPEN_STATES


def process_range(day: dt.date, first_id: int, last_id: int, actor: Any) -> dict[str, int]:
    """Close ``day`` for the open loans with ids in ``[first_id, last_id]`` not yet closed for
    it; returns the counts. Runs inside the chunk's transaction (the loans get row-locked)."""
    counts = empty_counts()
    thresholds = classification_thresholds()
    eligible = Loan.objects.filter(
        id__gte=first_id, id__lte=last_id, status__in=LOAN_OPEN_STATES
    ).filter(Q(last_eod_date__isnull=True) | Q(last_eod_date__lt=day))
    locked = list(eligible.select_for_update().order_by("id").values_list("id", "grace_days"))
    if not locked:
        return counts
    counts["loans"] = len(locked)
    eligible_ids = eligible.values("id")
    in_range = Installment.objects.filter(
        loan_id__gte=first_id, loan_id__lte=last_id, loan_id__in=eligible_ids
    )
    # 1. set-based marking: SCHEDULED → DUE on/after the due date; → OVERDUE after the grace.
    counts["installments_due"] = fsm.transition_queryset(
        in_range.filter(due_date__lte=day),
        Installment.Status.DUE,
        sources=[Installment.Status.SCHEDULED],
    )
    for grace in sorted({g for _id, g in locked}):
        counts["installments_overdue"] += fsm.transition_queryset(
            in_range.filter(loan__grace_days=grace, due_date__lt=day - dt.timedelta(days=grace)),
            Installment.Status.OVERDUE,
            sources=[Installment.Status.DUE],
        )
    # 2. the loans that need per-loan work
    rows: dict[int, list[Installment]] = defaultdict(list)
    for inst in in_range.filter(status__in=UNPAID_DUE).order_by("loan_id", "period"):
        rows[inst.loan_id].append(inst)
    extra = set(
        eligible.filter(
            Q(dpd__gt=0)
            | Q(status=Loan.Status.OVERDUE)
            | ~Q(classification=Loan.Classification.NORMAL)
        ).values_list("id", flat=True)
    )
    work_ids = set(rows) | extra
    loans = list(Loan.objects.filter(id__in=work_ids).order_by("id"))
    audit_changes: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    changed_loans: list[Loan] = []
    changed_insts: dict[int, Installment] = {}
    for loan in loans:
        if _process_loan(
            loan,
            day,
            rows.get(loan.pk, []),
            counts,
            changed_insts,
            thresholds,
            actor,
            audit_changes,
            events,
        ):
            changed_loans.append(loan)
    if connection.vendor == "postgresql":
        _write_back(changed_insts.values(), [])
        # the changed loans and every loan's last_eod_date in one UPDATE (no second version
        # of the changed rows)
        _write_loans_closed(day, [pk for pk, _g in locked], changed_loans)
    else:
        _write_back(changed_insts.values(), changed_loans)
        eligible.update(last_eod_date=day)
    if events:  # the customers' timeline rows, one bulk insert per chunk
        record_events_bulk(events)
    if audit_changes:
        # one audit entry per chunk listing every loan whose status/classification changed
        # (a per-loan entry would serialise the workers on the audit chain head)
        audit_record(
            action="loan.eod_status",
            actor=None,
            object_type="lending.loan",
            object_repr=f"EOD {day.isoformat()} [{first_id}–{last_id}]",
            metadata={"business_date": day.isoformat(), "loans": audit_changes},
        )
    return counts


INSTALLMENT_COLUMNS = (
    ("status", "text"),
    ("paid_on", "date"),
    ("penalty_due", "bigint"),
    ("penalty_paid", "bigint"),
    ("fee_paid", "bigint"),
    ("interest_paid", "bigint"),
    ("principal_paid", "bigint"),
)
LOAN_COLUMNS = (
    ("status", "text"),
    ("dpd", "integer"),
    ("classification", "text"),
    ("credit_balance", "bigint"),
    ("outstanding_principal", "bigint"),
    ("version", "integer"),
)


def _db_value(value: Any) -> Any:
    return value.fen if isinstance(value, Money) else value


def _write_back(insts: Iterable[Installment], loans: list[Loan]) -> None:
    """Write the per-loan results: on PostgreSQL one ``UPDATE … FROM unnest(arrays)`` per
    table (Django's ``bulk_update`` CASE expressions cost seconds per chunk); elsewhere
    ``bulk_update``."""
    batches: list[tuple[Any, list[Any], tuple[tuple[str, str], ...]]] = [
        (Installment, list(insts), INSTALLMENT_COLUMNS),
        (Loan, loans, LOAN_COLUMNS),
    ]
    for model, objs, columns in batches:
        if not objs:
            continue
        if connection.vendor != "postgresql":
            model.objects.bulk_update(objs, [c for c, _t in columns], batch_size=500)
            continue
        table = model._meta.db_table
        names = ", ".join(c for c, _t in columns)
        sets = ", ".join(f"{c} = v.{c}" for c, _t in columns)
        arrays = ", ".join(f"%s::{t}[]" for _c, t in columns)
        params = [[o.pk for o in objs]] + [
            [_db_value(getattr(o, c)) for o in objs] for c, _t in columns
        ]
        with connection.cursor() as cur:
            cur.execute(
                # table/column names are the constants above, never user input
                f"UPDATE {table} AS t SET {sets} FROM unnest(%s::bigint[], {arrays}) "  # noqa: S608
                f"AS v(id, {names}) WHERE t.id = v.id",
                params,
            )


def _write_loans_closed(day: dt.date, loan_ids: list[int], changed: list[Loan]) -> None:
    """PostgreSQL: ``last_eod_date = day`` on the chunk's locked loans that are still open
    (as ``eligible.update`` would: a loan paid off today keeps its date) and the per-loan
    results of ``changed``, in one ``UPDATE … FROM unnest(…) LEFT JOIN unnest(…)``."""
    names = ", ".join(c for c, _t in LOAN_COLUMNS)
    sets = ", ".join(
        f"{c} = CASE WHEN v.id IS NULL THEN t.{c} ELSE v.{c} END" for c, _t in LOAN_COLUMNS
    )
    arrays = ", ".join(f"%s::{t}[]" for _c, t in LOAN_COLUMNS)
    params: list[Any] = [
        list(LOAN_OPEN_STATES),
        day,
        loan_ids,
        [o.pk for o in changed],
        *[[_db_value(getattr(o, c)) for o in changed] for c, _t in LOAN_COLUMNS],
    ]
    with connection.cursor() as cur:
        cur.execute(
            # table/column names are the constants above, never user input
            f"UPDATE {Loan._meta.db_table} AS t SET {sets}, "  # noqa: S608
            "last_eod_date = CASE WHEN COALESCE(v.status, t.status) = ANY(%s) "
            "THEN %s ELSE t.last_eod_date END "
            f"FROM unnest(%s::bigint[]) AS e(id) LEFT JOIN unnest(%s::bigint[], {arrays}) "
            f"AS v(id, {names}) ON v.id = e.id WHERE t.id = e.id",
            params,
        )


def _process_loan(
    loan: Loan,
    day: dt.date,
    unpaid: list[Installment],
    counts: dict[str, int],
    changed_insts: dict[int, Installment],
    thresholds: tuple[int, int, int, int],
    actor: Any,
    audit_changes: list[dict[str, Any]],
    events: list[dict[str, Any]],
) -> bool:
    """Credit, penalty, DPD, status and classification of one loan; True if the loan changed."""
    before = (loan.status, loan.dpd, loan.classification)
    changed = False
    if loan.credit_balance.fen > 0 and unpaid:
        applied = _apply_credit(loan, day, unpaid, changed_insts, actor)
        counts["credit_applied_fen"] += applied
        changed = changed or applied > 0
        unpaid = [i for i in unpaid if i.status != Installment.Status.PAID]
    overdue = [i for i in unpaid if i.status == Installment.Status.OVERDUE]
    if overdue:
        principal = sum(due_components(i)["principal"] for i in overdue)
        penalty = penalty_for_day(loan, principal) if principal > 0 else 0
        if penalty > 0:
            oldest = overdue[0]
            oldest.penalty_due = Money.from_fen(oldest.penalty_due.fen + penalty)
            changed_insts[oldest.pk] = oldest
            counts["penalty_fen"] += penalty
        loan.dpd = (day - unpaid[0].due_date).days
    else:
        loan.dpd = 0
    target = loan.status
    if overdue:
        target = Loan.Status.OVERDUE
    elif loan.status == Loan.Status.OVERDUE:
        target = Loan.Status.ACTIVE
    if (
        loan.outstanding_principal.fen == 0
        and not unpaid
        # the installments this close just paid from the credit are not written back yet
        and not loan.installments.exclude(status=Installment.Status.PAID)
        .exclude(pk__in=[pk for pk, i in changed_insts.items() if i.loan_id == loan.pk])
        .exists()
    ):
        target = Loan.Status.PAID_OFF
        counts["paid_off"] += 1
    fsm.transition(loan, target, save=False, allow_same=True)
    loan.classification = classify(loan.dpd, thresholds)
    after = (loan.status, loan.dpd, loan.classification)
    if after == before and not changed:
        return False
    if before[0] != Loan.Status.OVERDUE and loan.status == Loan.Status.OVERDUE:
        counts["became_overdue"] += 1
    if before[1] > 0 and loan.dpd == 0:
        counts["cured"] += 1
    if before[2] != loan.classification:
        counts["classification_changes"] += 1
    if before[0] != loan.status or before[2] != loan.classification:
        loan.version += 1
        _record_change(loan, day, before, audit_changes, events)
    return True


def _record_change(
    loan: Loan,
    day: dt.date,
    before: tuple[str, int, str],
    audit_changes: list[dict[str, Any]],
    events: list[dict[str, Any]],
) -> None:
    status_labels, class_labels, title = _labels()
    audit_changes.append(
        {
            "loan": loan.pk,
            "number": loan.number,
            "dpd": loan.dpd,
            **{
                k: [b, a]
                for k, b, a in (
                    ("status", before[0], loan.status),
                    ("classification", before[2], loan.classification),
                )
                if b != a
            },
        }
    )
    worse = loan.status == Loan.Status.OVERDUE or loan.classification != "normal"
    events.append(
        {
            "customer_id": loan.customer_id,  # only the FK is needed; no decrypting load
            "kind": "alert" if worse else "other",
            "source": "lending",
            "obj": loan,
            "title": title
            % {
                "n": loan.number,
                "d": day.isoformat(),
                "s0": status_labels[before[0]],
                "s1": status_labels[loan.status],
                "c0": class_labels[before[2]],
                "c1": class_labels[loan.classification],
                "dpd": loan.dpd,
            },
            "detail": {
                "dpd": loan.dpd,
                "status": loan.status,
                "classification": loan.classification,
            },
        }
    )


def _labels() -> tuple[dict[str, str], dict[str, str], str]:
    """The status and 五级分类 labels and the timeline title in the active language, translated
    once per language (thousands of loans change on an overdue day)."""
    lang = get_language() or ""
    cached = _LABELS.get(lang)
    if cached is None:
        cached = _LABELS[lang] = (
            {str(v): str(label) for v, label in Loan.Status.choices},
            {str(v): str(label) for v, label in Loan.Classification.choices},
            _(
                "贷款 %(n)s 日终（%(d)s）：%(s0)s → %(s1)s，五级分类 %(c0)s → %(c1)s，逾期 %(dpd)s 天"
            ),
        )
    return cached


_LABELS: dict[str, tuple[dict[str, str], dict[str, str], str]] = {}


def _apply_credit(
    loan: Loan,
    day: dt.date,
    unpaid: list[Installment],
    changed_insts: dict[int, Installment],
    actor: Any,
) -> int:
    """溢缴款冲抵: the loan's credit balance pays due installments with the repayment order;
    posted as debit customer_credit / credit the components. Returns fen applied."""
    plan = allocation_preview(loan, loan.credit_balance.fen, day, unpaid)
    used = loan.credit_balance.fen - plan["credit"]
    if used <= 0:
        return 0
    by_id = {i.pk: i for i in unpaid}
    for part in plan["installments"]:
        inst = by_id[part["installment"]]
        apply_allocation(inst, part, +1)
        if is_settled(inst):
            fsm.transition(inst, Installment.Status.PAID, save=False)
            inst.paid_on = day
        changed_insts[inst.pk] = inst
    t = plan["totals"]
    ledger.post_entry(
        loan=loan,
        kind=JournalEntry.Kind.REPAYMENT,
        business_date=day,
        actor=actor,
        memo=f"溢缴款冲抵 {loan.number}",
        lines=[
            ("customer_credit", used, 0),
            ("loan_principal", 0, t["principal"]),
            ("interest_income", 0, t["interest"]),
            ("penalty_income", 0, t["penalty"]),
            ("fee_income", 0, t["fee"]),
        ],
    )
    loan.credit_balance = Money.from_fen(plan["credit"])
    loan.outstanding_principal = Money.from_fen(loan.outstanding_principal.fen - t["principal"])
    return used
