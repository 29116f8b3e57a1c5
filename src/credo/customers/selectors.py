"""Reads of customers. Every list goes through the user's data scope."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.db import transaction
from django.db.models import BooleanField, Case, Q, QuerySet, Value, When
from django.http import Http404
from django.utils.translation import gettext

from credo.accounts.fieldperms import can_view_clear
from credo.accounts.scope import get_with_access, scope_q, scope_queryset
from credo.core.audit.services import audit_record
from credo.core.crypto import blind_index
from credo.core.customfields import engine as cf
from credo.core.masking import mask
from credo.core.ratelimit import Rate, rate_hit, rate_limited
from credo.core.registry import Registry
from credo.core.sensitive import get_sensitive_field
from credo.core.validators import is_valid_id_number, is_valid_mobile, normalize_uscc
from credo.customers.models import (
    Authorization,
    Customer,
    CustomerEvent,
    ExternalPull,
    Relation,
)

SORTS = {
    "-id": "-id",
    "id": "id",
    "name": "name",
    "-name": "-name",
    "-created": "-created_at",
    "created": "created_at",
}
_USCC_LIKE = re.compile(r"^[0-9A-Z]{18}$")


def customers_for(user: Any) -> QuerySet[Customer]:
    return scope_queryset(Customer.objects.all(), user)


# --- search -------------------------------------------------------------------------------------
# An exact match on an encrypted field (via its blind index) answers "does this value exist?".
# A user who sees only 154****7636 could otherwise try the ~10,000 candidate phones one search
# at a time and read the true one off the result count. So an exact lookup of a sensitive value
# is made only for users who may see that field in clear (their field permission; the lookup is
# then audited as ``sensitive.lookup`` with the value masked). Everybody else searches it as
# plain text against the name, i.e. finds nothing by the number — unless the lender opts into a
# small per-user budget (CREDO_SENSITIVE_LOOKUPS_PER_HOUR, default 0 = off) for staff who must
# find customers by phone without seeing phones; every lookup in that budget is audited too.
SENSITIVE_LOOKUP_BUCKET = "sensitive_lookup"


def _lookup_rate() -> Rate:
    return Rate(settings.CREDO_SENSITIVE_LOOKUPS_PER_HOUR, 3600)


def exact_lookup_allowed(user: Any, field_key: str, value: str, *, purpose: str) -> bool:
    """May ``user`` find records by the exact value of the sensitive field ``field_key``
    ("app.model.field")? True when the field permission allows the clear value, or (if
    configured) within the user's hourly budget; each allowed lookup is audited with the value
    masked. Used by every search that matches a blind index: the customer list page, the API
    ``q``, exports, relation lookup and the global search providers (customers, leads)."""
    sensitive = get_sensitive_field(field_key)
    if sensitive is None:
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    if can_view_clear(user, field_key):
        mode = "field_permission"
    else:
        rate = _lookup_rate()
        if rate.limit <= 0:
            return False
        if rate_limited(SENSITIVE_LOOKUP_BUCKET, str(user.pk), rate):
            # Once per window, so a probing run shows up without flooding the audit log.
            if rate_hit(f"{SENSITIVE_LOOKUP_BUCKET}:audited", str(user.pk), rate) == 1:
                with transaction.atomic():
                    audit_record(
                        action="sensitive.lookup_throttled",
                        actor=user,
                        object_type=field_key.rsplit(".", 1)[0],
                        metadata={
                            "field": field_key,
                            "purpose": purpose,
                            "limit": rate.limit,
                            "window_seconds": rate.seconds,
                        },
                    )
            return False
        mode = "rate_limited"
    with transaction.atomic():
        audit_record(
            action="sensitive.lookup",
            actor=user,
            object_type=field_key.rsplit(".", 1)[0],
            # Never the searched value in clear: the audit log is read by more people.
            metadata={
                "field": field_key,
                "value": mask(sensitive.mask_kind, value),
                "purpose": purpose,
                "mode": mode,
            },
        )
    return True


def search_q(q: str, user: Any, *, purpose: str = "search") -> Q:
    """Exact identifier matches go through blind indexes (only where
    :func:`exact_lookup_allowed`); other text matches the name."""
    text = (q or "").strip()
    compact = re.sub(r"[\s-]", "", text).upper()
    if is_valid_id_number(compact):
        if exact_lookup_allowed(user, "customers.customer.id_number", compact, purpose=purpose):
            return Q(id_number_bidx=blind_index(compact, kind="id_number"))
        return Q(name__icontains=text)
    if _USCC_LIKE.match(compact) and not compact.isdigit():
        return Q(uscc=normalize_uscc(compact))
    if is_valid_mobile(compact):
        if exact_lookup_allowed(user, "customers.customer.phone", compact, purpose=purpose):
            return Q(phone_bidx=blind_index(compact, kind="phone"))
        return Q(name__icontains=text)
    return Q(name__icontains=text)


def customer_list(
    user: Any, params: Mapping[str, Any] | None = None, *, purpose: str = "list"
) -> QuerySet[Customer]:
    params = params or {}
    qs = customers_for(user).select_related("owner")
    q = str(params.get("q") or "").strip()
    if q:
        qs = qs.filter(search_q(q, user, purpose=purpose))
    kind = params.get("kind")
    if kind in Customer.Kind.values:
        qs = qs.filter(kind=kind)
    region = str(params.get("region") or "").strip()
    if region:
        # province 14xxxx / city 1401xx / county prefix match on the code
        prefix = (
            region[:2]
            if region.endswith("0000")
            else region[:4]
            if region.endswith("00")
            else region
        )
        qs = qs.filter(region_code__startswith=prefix)
    industry = params.get("industry")
    if industry:
        qs = qs.filter(industry=industry)
    grade = params.get("risk_grade")
    if grade:
        qs = qs.filter(risk_grade=grade)
    owner = params.get("owner")
    if owner and str(owner).isdecimal():
        qs = qs.filter(owner_id=int(owner))
    qs = cf.apply_filters(qs, "customer", user, params)
    sort = SORTS.get(str(params.get("sort") or "-id"), "-id")
    return qs.order_by(sort, "-id") if sort not in ("-id", "id") else qs.order_by(sort)


def paginate(qs: Any, page: Any, per_page: int = 20) -> Page:
    paginator = Paginator(qs, per_page)
    return paginator.get_page(page)


def customer_get(user: Any, pk: Any) -> Customer:
    """The customer if inside the user's scope; otherwise 404 (and the attempt is audited)."""
    try:
        customer, allowed = get_with_access(
            Customer.objects.select_related("owner", "team", "branch"), user, int(pk)
        )
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    if not allowed:
        with transaction.atomic():
            audit_record(
                action="customer.access_denied",
                actor=user,
                obj=customer,
                object_repr=f"customer #{customer.pk}",
            )
        raise Http404
    return customer


def timeline(customer: Customer, *, kinds: list[str] | None = None) -> QuerySet[CustomerEvent]:
    qs = customer.events.select_related("actor").order_by("-occurred_at", "-id")
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs


def timeline_counts(customer: Customer) -> dict[str, int]:
    from django.db.models import Count

    return dict(
        customer.events.values_list("kind").annotate(n=Count("id")).values_list("kind", "n")
    )


def authorizations_panel(customer: Customer, limit: int = 20) -> QuerySet[Authorization]:
    """The 360 page's 查询授权 table: the columns it shows and the recording user's name (one
    query, not one more per row for ``recorded_by``)."""
    return customer.authorizations.select_related("recorded_by").only(
        "id",
        "customer",
        "scope",
        "granted_by",
        "valid_from",
        "valid_until",
        "recorded_by__username",
        "recorded_by__display_name",
    )[:limit]


def pulls_panel(customer: Customer, limit: int = 20) -> QuerySet[ExternalPull]:
    """The 360 page's 查询记录 table: the columns it shows, never the raw and parsed payloads
    or the data source's (encrypted) credentials."""
    return customer.pulls.select_related("provider", "requested_by").only(
        "id",
        "customer",
        "kind",
        "requested_at",
        "status",
        "error",
        "provider__name",
        "requested_by__username",
        "requested_by__display_name",
    )[:limit]


@dataclass(frozen=True)
class RelatedParty:
    relation: Relation
    other: Customer
    direction: str  # "out": this customer is <kind> of other; "in": other is <kind> of this
    visible: bool


# What the 360 page, the graph, the related risk flags, the API and the credit report read of
# the *other* party of a relation. The rest of a related customer (encrypted identifiers among
# them, decrypted on load) is never shown there, so it is not read.
PARTY_FIELDS = ("id", "kind", "name", "risk_flags")


def _relations(customer: Customer, user: Any = None) -> tuple[list[Relation], set[int]]:
    """The customer's relations in both directions, each with both its customers set (this
    customer itself, and the other party read with :data:`PARTY_FIELDS` only), and the pks of
    the other parties inside ``user``'s data scope (none without a user). One query without
    relations (the common case), two with: the other parties and their scope in one. Kept on
    the customer object for the rest of the request."""
    cache: dict[Any, tuple[list[Relation], set[int]]] = customer.__dict__.setdefault(
        "_relations_cache", {}
    )
    key = None if user is None else user.pk
    if key not in cache:
        rows = list(
            Relation.objects.filter(Q(from_customer=customer) | Q(to_customer=customer)).order_by(
                "id"
            )
        )
        others: dict[int, Customer] = {}
        visible: set[int] = set()
        ids = {r.from_customer_id for r in rows} | {r.to_customer_id for r in rows}
        ids.discard(customer.pk)
        if ids:
            qs = Customer.objects.filter(pk__in=ids).only(*PARTY_FIELDS).order_by()
            q = scope_q(user) if user is not None else None
            if q:
                qs = qs.annotate(
                    _in_scope=Case(
                        When(q, then=Value(True)), default=Value(False), output_field=BooleanField()
                    )
                )
            for other in qs:
                others[other.pk] = other
                # Q() (scope "all") sees every party, None (no user/inactive) none
                if q is not None and (not q or other._in_scope):  # type: ignore[attr-defined]
                    visible.add(other.pk)
        others[customer.pk] = customer
        # (a party deleted between the two reads takes its relations with it: left out)
        rows = [r for r in rows if r.from_customer_id in others and r.to_customer_id in others]
        for r in rows:
            r.from_customer = others[r.from_customer_id]
            r.to_customer = others[r.to_customer_id]
        cache[key] = (rows, visible)
    return cache[key]


def related_parties(customer: Customer, user: Any) -> list[RelatedParty]:
    """The other party of each relation, and whether ``user`` may open it (``user=None``: no
    one). Only :data:`PARTY_FIELDS` of the other customers are read."""
    rels, visible = _relations(customer, user)
    out = [
        RelatedParty(r, r.to_customer, "out", r.to_customer_id in visible)
        for r in rels
        if r.from_customer_id == customer.pk
    ]
    out += [
        RelatedParty(r, r.from_customer, "in", r.from_customer_id in visible)
        for r in rels
        if r.to_customer_id == customer.pk
    ]
    return out


def related_risk_flags(
    customer: Customer, parties: list[RelatedParty] | None = None
) -> list[dict[str, Any]]:
    """Risk flags raised on related parties (shown on this customer, A4). ``parties``: the
    customer's :func:`related_parties` for the viewing user if the caller has them already —
    a party outside that user's data scope keeps its flag (a related party's risk matters to
    the decision) but not its name, as in the relations table and the graph. Without
    ``parties`` there is no viewer (services): every name is given."""
    from credo.customers.services import RISK_FLAGS

    viewer = parties is not None
    out = []
    for party in related_parties(customer, None) if parties is None else parties:
        hidden = viewer and not party.visible
        for flag in party.other.risk_flags:
            out.append(
                {
                    "customer_id": party.other.pk,
                    "name": gettext("（无权查看）") if hidden else party.other.name,
                    "relation": party.relation.get_kind_display(),
                    "flag": flag,
                    "label": RISK_FLAGS.get(flag, flag),
                }
            )
    return out


def relation_graph(
    customer: Customer, user: Any, parties: list[RelatedParty] | None = None
) -> dict[str, Any]:
    """ECharts graph data: nodes + links, names hidden for customers outside the scope.
    ``parties``: ``related_parties(customer, user)`` if the caller has them already."""
    nodes = [
        {"id": str(customer.pk), "name": customer.name, "category": 0, "flags": customer.risk_flags}
    ]
    links = []
    seen = {customer.pk}
    for party in related_parties(customer, user) if parties is None else parties:
        other = party.other
        if other.pk not in seen:
            seen.add(other.pk)
            nodes.append(
                {
                    "id": str(other.pk),
                    "name": other.name if party.visible else gettext("（无权查看）"),
                    "category": 2 if other.risk_flags else 1,
                    "flags": other.risk_flags,
                }
            )
        src, dst = (other, customer) if party.direction == "in" else (customer, other)
        label = party.relation.get_kind_display()
        if party.relation.share_pct is not None:
            label = f"{label} {party.relation.share_pct.normalize():f}%"
        links.append({"source": str(src.pk), "target": str(dst.pk), "label": str(label)})
    return {"nodes": nodes, "links": links}


# Key figures (total credit, outstanding, overdue, limit) come from the lending app once it
# exists; it registers a provider here so customers never imports lending.
FigureProvider = Callable[[Customer], dict[str, Any]]
figure_providers: Registry[FigureProvider] = Registry("customer key figures", on_duplicate="keep")


def _provider_key(provider: Callable[..., Any]) -> str:
    return f"{provider.__module__}.{provider.__qualname__}:{id(provider)}"


def register_figure_provider(provider: FigureProvider) -> None:
    figure_providers.register(_provider_key(provider), provider)


def key_figures(customer: Customer) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "total_credit": None,
        "outstanding": None,
        "overdue": None,
        "limit": None,
    }
    for provider in figure_providers:
        figures.update(provider(customer))
    return figures


def search_customers(user: Any, q: str, limit: int) -> list[Any]:
    """Global search provider: name, ID number, USCC or mobile; scoped; identifiers masked."""
    from django.urls import reverse

    from credo.core.ui.search import SearchHit

    hits = []
    for c in (
        customers_for(user)
        .filter(search_q(q, user, purpose="global_search"))
        .order_by("-id")[:limit]
    ):
        ident = c.uscc if c.kind == Customer.Kind.ENTERPRISE else mask("id_number", c.id_number)
        hits.append(
            SearchHit(
                title=c.name,
                subtitle=f"{c.get_kind_display()} · {ident} · {c.owner}",
                url=reverse("customers:detail", args=[c.pk]),
            )
        )
    return hits


def owner_choices(user: Any) -> list[Any]:
    """Staff whose books ``user`` may see, for the 客户经理 filter (empty for own scope)."""
    from django.contrib.auth import get_user_model

    from credo.accounts.models import DataScope

    users = get_user_model().objects.filter(is_active=True).order_by("username")
    scope = user.data_scope
    if scope == DataScope.OWN:
        return []
    if scope == DataScope.TEAM:
        users = users.filter(org_unit=user.team) if user.team else users.none()
    elif scope == DataScope.BRANCH:
        branch = user.branch
        users = (
            users.filter(Q(org_unit=branch) | Q(org_unit__parent=branch))
            if branch
            else users.none()
        )
    return list(users[:500])


# Rows for the 360 page's 申请与贷款 tab, provided by origination/lending without customers
# importing them: each provider returns [{"kind", "title", "url", "amount", "status", "date"}].
BusinessProvider = Callable[[Customer, Any], list[dict[str, Any]]]
business_providers: Registry[BusinessProvider] = Registry(
    "customer 360 business rows", on_duplicate="keep"
)


def register_business_provider(provider: BusinessProvider) -> None:
    business_providers.register(_provider_key(provider), provider)


def business_rows(customer: Customer, user: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for provider in business_providers:
        rows.extend(provider(customer, user))
    return rows
