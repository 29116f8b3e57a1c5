"""The collateral app's after-close jobs (日终后续作业), both idempotent per business date:

* ``collateral_release`` — a loan paid off leaves its registered collateral and active
  guarantees to be released: open one release request (解押申请) per item, on behalf of the
  loan's account manager, unless a request for that item and loan already exists. Collateral
  still securing another open loan is left alone.
* ``collateral_expiry`` — registrations (他项权证到期) and guarantee periods (保证期间) ending
  within ``CREDO_COLLATERAL_EXPIRY_DAYS`` (30) days: one todo and one in-app message for the
  account manager, keyed by item × expiry date (a re-run or the next day adds nothing).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.collateral import services
from credo.collateral.models import Collateral, CollateralLink, Guarantee, ReleaseRequest
from credo.collateral.selectors import expiry_days
from credo.lending.models import Loan

EXPIRY_TEMPLATE = "collateral.expiry"
RELEASE_LABELS = {
    "collateral_requests": gettext_lazy("新建解押申请"),
    "guarantee_requests": gettext_lazy("新建解除保证申请"),
}
EXPIRY_LABELS = {
    "registrations": gettext_lazy("登记到期提醒"),
    "guarantees": gettext_lazy("保证期间到期提醒"),
    "messages": gettext_lazy("站内消息"),
}
PAID = Loan.Status.PAID_OFF


def _paid_app_loans() -> dict[int, Loan]:
    """application id → its paid-off loan."""
    out: dict[int, Loan] = {}
    for loan in Loan.objects.filter(status=PAID, application__isnull=False).select_related(
        "application", "owner"
    ):
        out[loan.application.pk] = loan  # type: ignore[attr-defined]
    return out


def _loans_of(link: CollateralLink, app_loans: dict[int, Loan]) -> list[Loan]:
    loans = [link.loan] if link.loan is not None else []
    if link.application_id:
        app_loan = app_loans.get(link.application_id) or (
            Loan.objects.filter(application__id=link.application_id).first()
        )
        if app_loan is not None:
            loans.append(app_loan)
    return loans


def _releasable_loan(collateral: Collateral, app_loans: dict[int, Loan]) -> Loan | None:
    """The latest paid-off loan the collateral secured — None while any secured loan is open."""
    paid_loan: Loan | None = None
    for link in collateral.links.select_related("loan", "loan__owner"):
        for loan in _loans_of(link, app_loans):
            if loan.status != PAID:
                return None
            if paid_loan is None or loan.pk > paid_loan.pk:
                paid_loan = loan
    return paid_loan


def _already_requested(subject: Collateral | Guarantee, loan: Loan) -> bool:
    # a pending request, or any request for this payoff (a rejected one is a decision: kept)
    return subject.release_requests.filter(
        Q(status=ReleaseRequest.Status.PENDING) | Q(loan=loan)
    ).exists()


def _collateral_requests(app_loans: dict[int, Loan]) -> int:
    links = CollateralLink.objects.filter(collateral__status=Collateral.Status.REGISTERED).filter(
        Q(loan__status=PAID) | Q(application_id__in=list(app_loans))
    )
    opened = 0
    for cid in sorted({link.collateral_id for link in links}):
        with transaction.atomic():
            collateral = Collateral.objects.select_for_update().get(pk=cid)
            if collateral.status != Collateral.Status.REGISTERED:
                continue
            loan = _releasable_loan(collateral, app_loans)
            if loan is None or _already_requested(collateral, loan):
                continue
            services._open_request(
                collateral=collateral,
                guarantee=None,
                loan=loan,
                reason=_("贷款 %(n)s 已结清，申请解押。") % {"n": loan.number},
                requested_by=loan.owner,
                actor=None,
            )
            opened += 1
    return opened


def _guarantee_requests(app_loans: dict[int, Loan]) -> int:
    guarantees = Guarantee.objects.filter(status=Guarantee.Status.ACTIVE).filter(
        Q(loan__status=PAID) | Q(application_id__in=list(app_loans))
    )
    opened = 0
    for gid in sorted(guarantees.values_list("pk", flat=True)):
        with transaction.atomic():
            g = Guarantee.objects.select_for_update(of=("self",)).select_related("loan").get(pk=gid)
            if g.status != Guarantee.Status.ACTIVE:
                continue
            loan = g.loan if g.loan_id else app_loans.get(g.application_id or 0)
            if loan is None or loan.status != PAID or _already_requested(g, loan):
                continue
            services._open_request(
                collateral=None,
                guarantee=g,
                loan=loan,
                reason=_("贷款 %(n)s 已结清，申请解除保证。") % {"n": loan.number},
                requested_by=loan.owner,
                actor=None,
            )
            opened += 1
    return opened


def open_release_requests(business_date: dt.date) -> dict[str, int]:
    """Release requests for what paid-off loans secured (see the module docstring)."""
    app_loans = _paid_app_loans()
    return {
        "collateral_requests": _collateral_requests(app_loans),
        "guarantee_requests": _guarantee_requests(app_loans),
    }


def on_release(run: Any) -> dict[str, int]:
    return open_release_requests(run.business_date)


def _manager(collateral: Collateral | None = None, guarantee: Guarantee | None = None) -> Any:
    if collateral is not None:
        link = collateral.links.filter(loan__isnull=False).select_related("loan__owner").first()
        return link.loan.owner if link and link.loan else collateral.owner.owner
    assert guarantee is not None
    return guarantee.loan.owner if guarantee.loan_id else guarantee.guarantor.owner  # type: ignore[union-attr]


def expiry_alerts(business_date: dt.date, *, days: int | None = None) -> dict[str, int]:
    from credo.core.todo.models import Todo
    from credo.core.todo.services import todo_create
    from credo.notify.services import Notice, notify_many

    horizon = business_date + dt.timedelta(days=days or expiry_days())
    counts = {"registrations": 0, "guarantees": 0, "messages": 0}
    notices: list[Notice] = []
    items: list[tuple[str, Any, Any, str, dt.date, str]] = []
    for c in Collateral.objects.filter(
        status=Collateral.Status.REGISTERED,
        expires_on__gte=business_date,
        expires_on__lte=horizon,
    ).select_related("owner", "owner__owner"):
        assert c.expires_on is not None
        title = _("押品登记即将到期：%(n)s %(d)s（%(e)s）") % {
            "n": c.number,
            "d": c.description[:40],
            "e": c.expires_on.isoformat(),
        }
        items.append(
            (
                "registrations",
                c,
                _manager(collateral=c),
                title,
                c.expires_on,
                reverse("collateral:detail", args=[c.pk]),
            )
        )
    for g in Guarantee.objects.filter(
        status=Guarantee.Status.ACTIVE,
        period_end__gte=business_date,
        period_end__lte=horizon,
    ).select_related("guarantor", "guarantor__owner", "loan", "loan__owner"):
        assert g.period_end is not None
        title = _("保证期间即将届满：%(n)s 保证人 %(g)s（%(e)s）") % {
            "n": g.contract_number,
            "g": g.guarantor.name,
            "e": g.period_end.isoformat(),
        }
        items.append(
            (
                "guarantees",
                g,
                _manager(guarantee=g),
                title,
                g.period_end,
                reverse("collateral:guarantee_detail", args=[g.pk]),
            )
        )
    for kind, obj, user, title, day, url in items:
        if user is None:
            continue
        key = f"collateral-expiry:{obj._meta.model_name}:{obj.pk}:{day.isoformat()}"
        with transaction.atomic():
            existed = Todo.objects.filter(user=user, dedupe_key=key).exists()
            todo_create(
                user=user,
                title=title,
                description=_("请在到期前办理续登记、补充担保或确认解除。"),
                due_date=day,
                url=url,
                source=services.TODO_SOURCE,
                dedupe_key=key,
            )
        if not existed:
            counts[kind] += 1
        notices.append(
            Notice(
                template=EXPIRY_TEMPLATE,
                context={"title": title, "date": day.isoformat()},
                user=user,
                channel="inapp",
                dedupe_key=key,
                url=url,
            )
        )
    if notices:
        result = notify_many(notices, category="service")
        counts["messages"] = result.created
    return counts


def on_expiry(run: Any) -> dict[str, int]:
    return expiry_alerts(run.business_date)
