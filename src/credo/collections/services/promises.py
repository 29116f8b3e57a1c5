"""Promises to pay: recording one, and the nightly check that resolves the due ones."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import (
    Sum,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.collections import states
from credo.collections.errors import InvalidInput, InvalidState
from credo.collections.models import (
    CollectionCase,
    PromiseToPay,
)
from credo.core import clock, fsm
from credo.core.audit.services import audit_record
from credo.core.money import Money, fen_of, format_fen
from credo.customers.events import record_event
from credo.customers.models import CustomerEvent
from credo.lending.models import Posting


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
    # of=("self",): the case only — contact attempts lock the customer before the case.
    case = (
        CollectionCase.objects.select_for_update(of=("self",))
        .select_related("customer")
        .get(pk=case_id)
    )
    promise = PromiseToPay.objects.select_for_update().get(pk=promise_id)
    if promise.status != PromiseToPay.Status.PENDING:  # resolved by a concurrent run
        return 0
    paid = fen_of(
        Posting.objects.filter(
            loan_id=case.loan_id,
            created_at__gte=promise.created_at,
            reversed_at__isnull=True,
        ).aggregate(s=Sum("amount"))["s"]
    )
    kept = paid >= fen_of(promise.amount)
    promise.paid_amount = paid
    promise.resolved_at = timezone.now()
    fsm.transition(
        promise,
        PromiseToPay.Status.KEPT if kept else PromiseToPay.Status.BROKEN,
        update_fields=("paid_amount", "resolved_at"),
    )
    before = case.status
    if case.is_open:
        pending = case.promises.filter(status=PromiseToPay.Status.PENDING).count()
        event = states.Event.PROMISE_KEPT if kept else states.Event.PROMISE_BROKEN
        target = states.next_status(before, event, tier=case.tier, promises_pending=pending)
        fsm.transition(case, target, save=False, allow_same=True)
    fields = ["status", "updated_at"]
    if not kept:
        case.broken_promises += 1
        case.priority = case.dpd * fen_of(case.amount) * (case.broken_promises + 1)
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
        % {
            "d": promise.promised_date,
            "a": format_fen(fen_of(promise.amount)),
            "p": format_fen(paid),
        },
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
    amount = fen_of(amount)
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
    target = states.next_status(before, states.Event.PROMISE)
    promise = PromiseToPay.objects.create(
        case=case, promised_date=promised_date, amount=amount, actor=actor
    )
    if target != before:
        fsm.transition(case, target, update_fields=("updated_at",))
    record_event(
        customer=case.customer,
        kind=CustomerEvent.Kind.COLLECTION,
        title=_("承诺还款：%(d)s 还款 %(a)s 元") % {"d": promised_date, "a": format_fen(amount)},
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
