"""The collateral app's after-close jobs (日终后续作业), both idempotent per business date:

* ``collateral_release`` — a loan paid off leaves its registered collateral and active
  guarantees to be released: open one release request (解押申请) per item, on behalf of the
  loan's account manager, unless a request for that item and loan already exists. Collateral
  still securing another open loan is left alone. The request is normally opened the moment
  the loan is paid off (the ``loan_paid_off`` / ``loan_replayed`` listeners); the job is the
  safety net for payoffs made elsewhere (close of business, restructuring). It starts from the
  collateral links and guarantees still registered/active — never from the loans.
* ``collateral_expiry`` — registrations (他项权证到期) and guarantee periods (保证期间) ending
  within ``CREDO_COLLATERAL_EXPIRY_DAYS`` (30) days: one todo and one in-app message for the
  account manager, keyed by item × expiry date (a re-run or the next day adds nothing).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.collateral import services
from credo.collateral.models import Collateral, CollateralLink, Guarantee, ReleaseRequest
from credo.collateral.selectors import expiry_days
from credo.core import fsm
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


def _app_loan_paid(app_field: str = "application_id") -> Exists:
    """The link's / guarantee's application has a paid-off loan (by the application's pk; the
    Application model lives above this app, so it is reached through ``Loan.application``)."""
    return Exists(
        Loan.objects.filter(application__id=OuterRef(app_field), status=PAID).values("pk")
    )


def _pending(model_field: str) -> Exists:
    return Exists(
        ReleaseRequest.objects.filter(
            **{model_field: OuterRef("pk")}, status=ReleaseRequest.Status.PENDING
        ).values("pk")
    )


def _collateral_candidates(loan_id: int | None = None) -> list[int]:
    """Registered collateral linked to a paid-off loan (directly or through its application)
    with no pending release request. Driven by the collateral links, never by the loans: the
    close of business looks at what is pledged, not at the whole book."""
    links = CollateralLink.objects.filter(collateral__status=Collateral.Status.REGISTERED)
    if loan_id is not None:
        app_ids = list(Loan.objects.filter(pk=loan_id).values_list("application__id", flat=True))
        target = Q(loan_id=loan_id)
        if app_ids and app_ids[0]:
            target |= Q(application_id=app_ids[0])
        links = links.filter(target)
    else:
        links = links.filter(Q(loan__status=PAID) | Q(_app_loan_paid()))
    ids = links.values("collateral_id")
    return list(
        Collateral.objects.filter(pk__in=ids)
        .exclude(_pending("collateral"))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _guarantee_candidates(loan_id: int | None = None) -> list[int]:
    qs = Guarantee.objects.filter(status=Guarantee.Status.ACTIVE)
    if loan_id is not None:
        app_ids = list(Loan.objects.filter(pk=loan_id).values_list("application__id", flat=True))
        target = Q(loan_id=loan_id)
        if app_ids and app_ids[0]:
            target |= Q(application_id=app_ids[0])
        qs = qs.filter(target)
    else:
        qs = qs.filter(Q(loan__status=PAID) | Q(_app_loan_paid()))
    return list(qs.exclude(_pending("guarantee")).order_by("pk").values_list("pk", flat=True))


def _loans_of(link: CollateralLink) -> list[Loan]:
    loans = [link.loan] if link.loan is not None else []
    if link.application_id:
        app_loan = (
            Loan.objects.filter(application__id=link.application_id).select_related("owner").first()
        )
        if app_loan is not None and app_loan.pk != link.loan_id:
            loans.append(app_loan)
    return loans


def _releasable_loan(collateral: Collateral) -> Loan | None:
    """The latest paid-off loan the collateral secured — None while any secured loan is open."""
    paid_loan: Loan | None = None
    for link in collateral.links.select_related("loan", "loan__owner"):
        for loan in _loans_of(link):
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


def _open_for_collateral(cid: int) -> bool:
    with transaction.atomic():
        collateral = Collateral.objects.select_for_update().get(pk=cid)
        if collateral.status != Collateral.Status.REGISTERED:
            return False
        loan = _releasable_loan(collateral)
        if loan is None or _already_requested(collateral, loan):
            return False
        services._open_request(
            collateral=collateral,
            guarantee=None,
            loan=loan,
            reason=_("贷款 %(n)s 已结清，申请解押。") % {"n": loan.number},
            requested_by=loan.owner,
            actor=None,
        )
        return True


def _open_for_guarantee(gid: int) -> bool:
    with transaction.atomic():
        g = Guarantee.objects.select_for_update(of=("self",)).select_related("loan").get(pk=gid)
        if g.status != Guarantee.Status.ACTIVE:
            return False
        loan = g.loan
        if loan is None and g.application_id:
            loan = (
                Loan.objects.filter(application__id=g.application_id)
                .select_related("owner")
                .first()
            )
        if loan is None or loan.status != PAID or _already_requested(g, loan):
            return False
        services._open_request(
            collateral=None,
            guarantee=g,
            loan=loan,
            reason=_("贷款 %(n)s 已结清，申请解除保证。") % {"n": loan.number},
            requested_by=loan.owner,
            actor=None,
        )
        return True


def open_release_requests(
    business_date: dt.date | None = None, *, loan_id: int | None = None
) -> dict[str, int]:
    """Release requests for what paid-off loans secured (see the module docstring): for one
    loan (``loan_id``, at the moment it is paid off) or for every candidate (the after-close
    safety net). Idempotent: a second call opens nothing."""
    return {
        "collateral_requests": sum(
            _open_for_collateral(cid) for cid in _collateral_candidates(loan_id)
        ),
        "guarantee_requests": sum(
            _open_for_guarantee(gid) for gid in _guarantee_candidates(loan_id)
        ),
    }


def on_loan_paid_off(loan_id: int) -> None:
    """``loan_paid_off`` listener: the 解押申请 opened the moment the loan is 已结清."""
    if Loan.objects.filter(pk=loan_id, status=PAID).exists():
        open_release_requests(loan_id=loan_id)


def on_loan_disbursed(loan_id: int) -> int:
    """``loan_disbursed`` listener: the 保证合同 declared on the loan's application (待生效,
    signed with the loan contract) take effect with the loan — linked to it, 生效中, the
    guarantee period starting on the value date unless one was recorded — so they are
    watched for expiry and offered for release at payoff. Idempotent; audited per contract."""
    loan = Loan.objects.filter(pk=loan_id).values("application__id", "start_date").first()
    if loan is None or loan["application__id"] is None:
        return 0
    activated = 0
    with transaction.atomic():
        for g in Guarantee.objects.select_for_update().filter(
            application_id=loan["application__id"], status=Guarantee.Status.DRAFT
        ):
            g.loan_id = loan_id
            if g.period_start is None:
                g.period_start = loan["start_date"]
            fsm.transition(
                g,
                Guarantee.Status.ACTIVE,
                actor=None,
                action="guarantee.activate",
                update_fields=("loan", "period_start"),
                metadata={"via": "disbursement", "loan": loan_id},
            )
            activated += 1
    return activated


def on_loan_replayed(loan_id: int, before: Any, after: Any) -> None:
    """A replay (倒起息, reversal) that ends with the loan paid off."""
    if after.get("status") == PAID and before.get("status") != PAID:
        on_loan_paid_off(loan_id)


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
