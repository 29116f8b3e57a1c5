"""Reads: scoped lists and the collateral/guarantees of a customer, application or loan, with
the LTV (抵押率) against the current valuations."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404

from credo.accounts.scope import scope_q
from credo.collateral.ltv import exceeds, ltv_pct, parse_limit
from credo.collateral.models import (
    Collateral,
    CollateralLink,
    Guarantee,
    LtvLimit,
    LtvSnapshot,
    ReleaseRequest,
)

LIVE = (Collateral.Status.DRAFT, Collateral.Status.REGISTERED)
MAX_LTV_ENV = "CREDO_COLLATERAL_MAX_LTV"
EXPIRY_DAYS_ENV = "CREDO_COLLATERAL_EXPIRY_DAYS"


def _scope(user: Any, prefix: str) -> Q | None:
    return scope_q(
        user,
        owner_field=f"{prefix}__owner",
        team_field=f"{prefix}__team",
        branch_field=f"{prefix}__branch",
    )


def collateral_for(user: Any) -> QuerySet[Collateral]:
    """Collateral whose owner customer, or a secured loan, is inside ``user``'s data scope."""
    owner_q = _scope(user, "owner")
    if owner_q is None:
        return Collateral.objects.none()
    if not owner_q:
        return Collateral.objects.all()
    loan_q = _scope(user, "links__loan") or Q(pk__in=[])
    ids = Collateral.objects.filter(owner_q | loan_q).values("pk")
    return Collateral.objects.filter(pk__in=ids)


def guarantees_for(user: Any) -> QuerySet[Guarantee]:
    owner_q = _scope(user, "guarantor")
    if owner_q is None:
        return Guarantee.objects.none()
    if not owner_q:
        return Guarantee.objects.all()
    loan_q = _scope(user, "loan") or Q(pk__in=[])
    return Guarantee.objects.filter(owner_q | loan_q)


def collateral_get(user: Any, pk: Any) -> Collateral:
    try:
        return collateral_for(user).select_related("owner").get(pk=int(pk))
    except (Collateral.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def guarantee_get(user: Any, pk: Any) -> Guarantee:
    try:
        return guarantees_for(user).select_related("guarantor", "loan").get(pk=int(pk))
    except (Guarantee.DoesNotExist, ValueError, TypeError):
        raise Http404 from None


def collateral_list(user: Any, params: Any) -> QuerySet[Collateral]:
    qs = collateral_for(user).select_related("owner")
    q = (params.get("q") or "").strip()
    if q:
        qs = qs.filter(
            Q(number__icontains=q)
            | Q(description__icontains=q)
            | Q(owner__name__icontains=q)
            | Q(registration_number__icontains=q)
        )
    if params.get("status") in Collateral.Status.values:
        qs = qs.filter(status=params["status"])
    if params.get("category") in Collateral.Category.values:
        qs = qs.filter(category=params["category"])
    if params.get("kind") in Collateral.Kind.values:
        qs = qs.filter(kind=params["kind"])
    return qs.order_by("-id")


def max_ltv(product_id: int | None) -> Decimal:
    if product_id is not None:
        limit = LtvLimit.objects.filter(product_id=product_id).values_list("max_ltv", flat=True)
        for value in limit:
            return Decimal(value)
    return parse_limit(os.environ.get(MAX_LTV_ENV))


def expiry_days() -> int:
    raw = (os.environ.get(EXPIRY_DAYS_ENV) or "").strip()
    try:
        days = int(raw) if raw else 30
    except ValueError:
        raise ValueError(f"{EXPIRY_DAYS_ENV}={raw!r}: not a whole number") from None
    if not 0 < days <= 366:
        raise ValueError(f"{EXPIRY_DAYS_ENV}={raw!r}: must be between 1 and 366")
    return days


@dataclass
class Security:
    """The collateral and guarantees behind one application or loan, and its LTV."""

    amount_fen: int
    links: list[CollateralLink] = field(default_factory=list)
    guarantees: list[Guarantee] = field(default_factory=list)
    value_fen: int = 0
    ltv: Decimal | None = None
    limit: Decimal | None = None
    # the stored 抵押率 at submission and at the approval decision (stage → snapshot)
    snapshots: dict[str, LtvSnapshot] = field(default_factory=dict)
    from_application: bool = False  # a loan booked without an application has no snapshots

    @property
    def at_application(self) -> LtvSnapshot | None:
        return self.snapshots.get(LtvSnapshot.Stage.APPLICATION)

    @property
    def at_approval(self) -> LtvSnapshot | None:
        return self.snapshots.get(LtvSnapshot.Stage.APPROVAL)

    @property
    def over_limit(self) -> bool:
        return exceeds(self.ltv, self.limit)

    @property
    def empty(self) -> bool:
        return not self.links and not self.guarantees


# The columns a Security is read with: what the security panel shows
# (collateral/_security_panel.html) and what the LTV and its snapshot items need. The owner and
# the guarantor are customers (wide rows with encrypted columns): only their name is shown.
SECURITY_LINK_FIELDS = (
    "collateral",
    "collateral__number",
    "collateral__kind",
    "collateral__category",
    "collateral__description",
    "collateral__owner",
    "collateral__owner__name",
    "collateral__current_value",
    "collateral__registration_number",
    "collateral__expires_on",
    "collateral__status",
)
SECURITY_GUARANTEE_FIELDS = (
    "contract_number",
    "guarantor",
    "guarantor__name",
    "kind",
    "amount",
    "period_start",
    "period_end",
    "status",
)


def _security(link_q: Q, guarantee_q: Q, amount_fen: int, product_id: int | None) -> Security:
    links = list(
        CollateralLink.objects.filter(link_q)
        .select_related("collateral", "collateral__owner")
        .only(*SECURITY_LINK_FIELDS)
        .order_by("collateral_id")
    )
    seen: set[int] = set()
    unique = []
    for link in links:
        if link.collateral_id not in seen:
            seen.add(link.collateral_id)
            unique.append(link)
    value = sum(
        link.collateral.current_value.fen
        for link in unique
        if link.collateral.status in LIVE and link.collateral.current_value is not None
    )
    guarantees = list(
        Guarantee.objects.filter(guarantee_q)
        .select_related("guarantor")
        .only(*SECURITY_GUARANTEE_FIELDS)
    )
    return Security(
        amount_fen=amount_fen,
        links=unique,
        guarantees=guarantees,
        value_fen=value,
        ltv=ltv_pct(amount_fen, value),
        limit=max_ltv(product_id),
    )


def application_security(application: Any) -> Security:
    """``application`` is an origination Application (duck-typed: pk, final_amount,
    product_version.product_id, loan_id)."""
    link_q = Q(application_id=application.pk)
    g_q = Q(application_id=application.pk)
    if getattr(application, "loan_id", None):
        link_q |= Q(loan_id=application.loan_id)
        g_q |= Q(loan_id=application.loan_id)
    security = _security(
        link_q, g_q, application.final_amount, application.product_version.product_id
    )
    security.snapshots = ltv_snapshots(application.pk)
    security.from_application = True
    return security


def ltv_snapshots(application_id: int | None) -> dict[str, LtvSnapshot]:
    if not application_id:
        return {}
    return {s.moment: s for s in LtvSnapshot.objects.filter(application_id=application_id)}


def loan_security(loan: Any) -> Security:
    """The loan's own links plus its application's (an application's links count for the loan
    made from it)."""
    link_q = Q(loan_id=loan.pk)
    g_q = Q(loan_id=loan.pk)
    app_id = _application_id_of(loan)
    if app_id:
        link_q |= Q(application_id=app_id)
        g_q |= Q(application_id=app_id)
    amount = loan.outstanding_principal.fen if loan.disbursed_at else loan.principal.fen
    security = _security(link_q, g_q, amount, loan.product_version.product_id)
    security.snapshots = ltv_snapshots(app_id)
    security.from_application = bool(app_id)
    return security


def _application_id_of(loan: Any) -> int | None:
    """The id of the application the loan was made from: the one the page read already
    (``loan.application``, origination's reverse one-to-one, cached on the loan), else one
    narrow query."""
    from credo.lending.models import Loan

    descriptor = getattr(type(loan), "application", None)
    if descriptor is not None and descriptor.is_cached(loan):
        application = descriptor.related.get_cached_value(loan)
        return application.pk if application is not None else None
    return Loan.objects.filter(pk=loan.pk).values_list("application__id", flat=True).first()


# what the customer 360 page's 申请与贷款 rows show of a customer's collateral and guarantees
# (panels.customer_rows); the credit report's panel reads the whole rows
OWNED_ROW_FIELDS = (
    "number",
    "category",
    "description",
    "current_value",
    "status",
    "created_at",
)
GIVEN_ROW_FIELDS = ("contract_number", "kind", "amount", "status", "created_at")


def customer_owned_and_given(customer: Any) -> dict[str, Any]:
    """For the customer 360 page's rows: the collateral the customer owns and the guarantees it
    gave (the newest 100 of each), with the columns the rows show."""
    return {
        "owned": list(
            Collateral.objects.filter(owner=customer).only(*OWNED_ROW_FIELDS).order_by("-id")[:100]
        ),
        "given": list(
            Guarantee.objects.filter(guarantor=customer)
            .only(*GIVEN_ROW_FIELDS)
            .order_by("-id")[:100]
        ),
    }


def customer_collateral(customer: Any) -> dict[str, Any]:
    """For the customer page and the credit report: collateral the customer owns, guarantees it
    gave, and guarantees given for its loans."""
    owned = list(Collateral.objects.filter(owner=customer).order_by("-id")[:100])
    given = list(
        Guarantee.objects.filter(guarantor=customer).select_related("loan").order_by("-id")[:100]
    )
    # the customer's applications (origination sits above this app: by label, never imported)
    from django.apps import apps

    app_ids = apps.get_model("origination", "Application").objects.filter(customer=customer)
    for_customer = Q(loan__customer=customer) | Q(application_id__in=app_ids.values("pk"))
    received = list(
        Guarantee.objects.filter(for_customer)
        .exclude(guarantor=customer)
        .select_related("guarantor", "loan")
        .order_by("-id")[:100]
    )
    # third-party collateral securing the customer's applications and loans
    link_q = Q(links__loan__customer=customer) | Q(links__application_id__in=app_ids.values("pk"))
    pledged = list(
        Collateral.objects.filter(pk__in=Collateral.objects.filter(link_q).values("pk"))
        .exclude(owner=customer)
        .select_related("owner")
        .order_by("-id")[:100]
    )
    return {"owned": owned, "given": given, "received": received, "pledged": pledged}


def pending_releases(user: Any) -> QuerySet[ReleaseRequest]:
    ids = collateral_for(user).values("pk")
    gids = guarantees_for(user).values("pk")
    return (
        ReleaseRequest.objects.filter(
            Q(collateral_id__in=ids) | Q(guarantee_id__in=gids),
            status=ReleaseRequest.Status.PENDING,
        )
        .select_related("collateral", "guarantee", "loan", "requested_by")
        .order_by("id")
    )


def security_types(application_ids: list[int]) -> dict[int, set[str]]:
    """Application id → the kinds of security recorded for it, in the vocabulary of the old
    ``Application.guarantees`` list ("collateral", "guarantor"); two queries for any number of
    applications (batch scoring)."""
    out: dict[int, set[str]] = {}
    if not application_ids:
        return out
    for app_id in (
        CollateralLink.objects.filter(application_id__in=application_ids)
        .exclude(collateral__status=Collateral.Status.RELEASED)
        .values_list("application_id", flat=True)
        .distinct()
    ):
        if app_id is not None:
            out.setdefault(app_id, set()).add("collateral")
    for app_id in (
        Guarantee.objects.filter(application_id__in=application_ids)
        .exclude(status=Guarantee.Status.RELEASED)
        .values_list("application_id", flat=True)
        .distinct()
    ):
        if app_id is not None:
            out.setdefault(app_id, set()).add("guarantor")
    return out
