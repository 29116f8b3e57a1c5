"""Retention (F5): renewal invitations and good-customer care, decided by ``retention.triggers``.

Each (loan, trigger) fires once ever (unique ``RetentionTrigger`` row, inserted first): a care
task for the account manager, a renewal message to the borrower (category marketing), and for
good customers a limit-increase suggestion waiting for a risk manager's approval.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import clock, fsm
from credo.core.audit.services import audit_record
from credo.core.money import Money, fen_of
from credo.lending.models import CreditLimit, Loan
from credo.monitoring import states  # noqa: F401 — registers the machines
from credo.monitoring.errors import InvalidState
from credo.monitoring.models import LoanIndicator, RetentionSuggestion, RetentionTrigger

RETENTION_KEY = "retention.triggers"
RENEWAL_TEMPLATE = "monitoring.renewal_invitation"
CHUNK = 2000


def run_retention(day: dt.date, *, loan_ids: list[int] | None = None) -> Counter[str]:
    from credo.monitoring.batch import evaluate, indicator_groups

    counts: Counter[str] = Counter()
    qs = LoanIndicator.objects.filter(as_of=day, dpd=0, late_12m=0)
    if loan_ids is not None:
        qs = qs.filter(loan_id__in=loan_ids)
    # Only loans whose facts could fire a trigger are evaluated: the shipped and sensible
    # retention models all require a clean record (no DPD, nothing late in 12 months). Loans
    # sharing one input are evaluated once (indicator_groups).
    groups = indicator_groups(qs)
    if not groups:
        return counts
    _version, results = evaluate(RETENTION_KEY, list(enumerate(g.data for g in groups)))
    fired_loans = sorted(
        (loan_id, customer_id, n)
        for n, group in enumerate(groups)
        if (results[n] or {}).get("triggers")
        for loan_id, customer_id in group.loans
    )
    # A customer-level trigger needs every open loan of the customer to be clean.
    unclean = set(
        LoanIndicator.objects.filter(as_of=day)
        .filter(Q(dpd__gt=0) | Q(late_12m__gt=0))
        .values_list("customer_id", flat=True)
        .distinct()
    )
    candidates: dict[str, tuple[int, int, str, dict[str, Any]]] = {}
    for loan_id, customer_id, n in fired_loans:
        for hit in results[n]["triggers"]:
            trigger = str(hit.get("trigger") or "")
            if not trigger:
                continue
            per = str(hit.get("per") or "loan")
            if per == "loan":
                key = f"loan:{loan_id}:{trigger}"
            elif customer_id in unclean:
                continue
            elif per == "customer":
                key = f"customer:{customer_id}:{trigger}"
            else:  # customer_year
                key = f"customer:{customer_id}:{trigger}:{day.year}"
            candidates.setdefault(key, (loan_id, customer_id, trigger, hit))
    if not candidates:
        return counts
    fired: set[str] = set()
    keys = list(candidates)
    for start in range(0, len(keys), CHUNK):
        fired.update(
            RetentionTrigger.objects.filter(key__in=keys[start : start + CHUNK]).values_list(
                "key", flat=True
            )
        )
    new = {k: v for k, v in candidates.items() if k not in fired}
    if new:
        counts.update(_fire(day, new))
    return counts


def _fire(day: dt.date, new: dict[str, tuple[int, int, str, dict[str, Any]]]) -> Counter[str]:
    """Set-based: triggers, care todos, timeline events and suggestions in bulk inserts; the
    renewal messages through the bulk notification path (deduplicated there)."""
    from credo.core.todo.models import Todo
    from credo.customers.models import CustomerEvent

    counts: Counter[str] = Counter()
    loans: dict[int, dict[str, Any]] = {}
    loan_ids = list({v[0] for v in new.values()})
    for start in range(0, len(loan_ids), CHUNK):
        for row in Loan.objects.filter(pk__in=loan_ids[start : start + CHUNK]).values(
            "id",
            "number",
            "principal",
            "customer_id",
            "customer__name",
            "customer__owner_id",
            "customer__team_id",
            "customer__branch_id",
        ):
            loans[row["id"]] = dict(row)
    limits = dict(
        CreditLimit.objects.filter(
            customer_id__in=list({r["customer_id"] for r in loans.values()})
        ).values_list("customer_id", "amount")
    )
    now = timezone.now()
    due = clock.today() + dt.timedelta(days=7)
    with transaction.atomic():
        # The unique (loan, trigger) row is inserted first; a concurrent run's rows are skipped
        # and only the pairs this run really inserted get the side effects.
        RetentionTrigger.objects.bulk_create(
            [
                RetentionTrigger(
                    key=k, loan_id=v[0], customer_id=v[1], trigger=v[2], business_date=day
                )
                for k, v in new.items()
            ],
            ignore_conflicts=True,
            batch_size=CHUNK,
        )
        mine = set(
            RetentionTrigger.objects.filter(business_date=day, created_at__gte=now).values_list(
                "key", flat=True
            )
        ) & set(new)
        todos, events, suggestions, invites = [], [], [], []
        for key in sorted(mine):
            loan_id, _customer_id, trigger, hit = new[key]
            loan = loans[loan_id]
            name = str(hit.get("name") or trigger)
            counts[f"retention_{trigger}"] += 1
            todos.append(
                Todo(
                    user_id=loan["customer__owner_id"],
                    title=(_("客户维护：%(n)s · %(c)s") % {"n": name, "c": loan["customer__name"]})[
                        :200
                    ],
                    description=_("贷款 %(l)s 触发“%(n)s”，请联系客户。")
                    % {"l": loan["number"], "n": name},
                    due_date=due,
                    url=f"/customers/{loan['customer_id']}/",
                    source="monitoring",
                    dedupe_key=f"retention:{key}",
                )
            )
            events.append(
                CustomerEvent(
                    customer_id=loan["customer_id"],
                    kind=CustomerEvent.Kind.OTHER,
                    occurred_at=now,
                    title=(_("客户维护：%(n)s（贷款 %(l)s）") % {"n": name, "l": loan["number"]})[
                        :200
                    ],
                    detail={"trigger": trigger},
                    source="monitoring",
                    object_type="lending.loan",
                    object_id=str(loan_id),
                )
            )
            pct = int(hit.get("increase_pct") or 0)
            if pct > 0:
                limit = limits.get(loan["customer_id"])
                base = fen_of(limit) if limit is not None else fen_of(loan["principal"])
                suggestions.append(
                    RetentionSuggestion(  # type: ignore[misc]  # MoneyField stores Money
                        customer_id=loan["customer_id"],
                        loan_id=loan_id,
                        trigger=trigger,
                        reason=(_("%(n)s：建议提额 %(p)s%%") % {"n": name, "p": pct})[:200],
                        current_amount=Money.from_fen(fen_of(limit)),
                        suggested_amount=Money.from_fen(base * (100 + pct) // 100),
                        owner_id=loan["customer__owner_id"],
                        team_id=loan["customer__team_id"],
                        branch_id=loan["customer__branch_id"],
                    )
                )
            if trigger == "renewal":
                invites.append(loan_id)
        Todo.objects.bulk_create(todos, ignore_conflicts=True, batch_size=CHUNK)
        CustomerEvent.objects.bulk_create(events, batch_size=CHUNK)
        RetentionSuggestion.objects.bulk_create(suggestions, batch_size=CHUNK)
    counts.update(_invite([loans[pk] for pk in invites]))
    return counts


def _invite(loans: list[dict[str, Any]]) -> Counter[str]:
    """The renewal invitations through the bulk notification path (one ``notify_many`` call,
    deduplicated per loan). A refused invitation never blocks the care tasks: the refusals are
    written to one audit entry ``monitoring.renewal_invite_failed`` listing them."""
    from credo.customers.models import Customer
    from credo.notify.services import Notice, notify_many

    counts: Counter[str] = Counter()
    if not loans:
        return counts
    customers = Customer.objects.only("id", "name", "phone", "risk_flags").in_bulk(
        list({row["customer_id"] for row in loans})
    )
    notices = [
        Notice(
            template=RENEWAL_TEMPLATE,
            context={"customer_name": row["customer__name"], "loan_number": row["number"]},
            customer=customers[row["customer_id"]],
            dedupe_key=f"retention:{row['id']}:renewal",
        )
        for row in loans
    ]
    failures: list[dict[str, Any]] = []
    try:
        result = notify_many(notices, category="marketing")
    except Exception as exc:  # noqa: BLE001 — a message problem must not block the care tasks
        failures = [{"loan": row["id"], "error": str(exc)[:200]} for row in loans]
    else:
        counts["invites_queued"] = result.queued
        counts["invites_suppressed"] = result.suppressed
        failures = [{"loan": loans[i]["id"], "error": reason[:200]} for i, reason in result.errors]
    if failures:
        counts["invites_failed"] = len(failures)
        audit_record(
            action="monitoring.renewal_invite_failed",
            object_type="monitoring.retention",
            object_id=str(loans[0]["id"]) if len(loans) == 1 else "batch",
            metadata={"failures": failures[:500], "count": len(failures)},
        )
    return counts


@transaction.atomic
def suggestion_decide(
    *, suggestion: RetentionSuggestion, approve: bool, actor: Any, reason: str = ""
) -> RetentionSuggestion:
    from credo.lending.limits import limit_set

    s = RetentionSuggestion.objects.select_for_update().get(pk=suggestion.pk)
    if s.status != RetentionSuggestion.Status.PENDING:
        raise InvalidState(_("该建议已处理。"))
    if approve:
        limit_set(
            customer=s.customer,
            amount=s.suggested_amount,
            actor=actor,
            reason=(reason or s.reason or _("客户维护提额"))[:200],
        )
    s.decided_by, s.decided_at = actor, timezone.now()
    fsm.transition(
        s,
        RetentionSuggestion.Status.APPROVED if approve else RetentionSuggestion.Status.REJECTED,
        update_fields=("decided_by", "decided_at"),
    )
    audit_record(
        action="monitoring.retention_approved" if approve else "monitoring.retention_rejected",
        actor=actor,
        obj=s,
        metadata={"suggested": s.suggested_amount.fen, "reason": reason},
    )
    return s
