"""Reads of leads. Every list goes through the user's data scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncWeek
from django.http import Http404
from django.utils import timezone

from credo.accounts.scope import can_access, scope_q, scope_queryset
from credo.core import clock
from credo.core.audit.services import audit_record
from credo.leads.models import Lead

GROUPS = ("source", "campaign", "region", "owner", "week")


def leads_for(user: Any) -> QuerySet[Lead]:
    """The leads inside the user's data scope: the ones they may work on (edit, assign…)."""
    return scope_queryset(Lead.objects.all(), user)


def leads_readable(user: Any) -> QuerySet[Lead]:
    """What the user may read: the data scope, plus the leads they entered themselves (read
    only — a manager who captures a lead that the rules hand to a colleague can still follow
    it; working on it stays with the owner and the scope)."""
    q = scope_q(user)
    if q is None:
        return Lead.objects.none()
    if not q:
        return Lead.objects.all()
    return Lead.objects.filter(q | Q(created_by=user))


def can_edit(lead: Lead, user: Any) -> bool:
    """Whether the user may work on the lead (inside their data scope); a creator who can
    only read it gets False."""
    return can_access(lead, user)


def overdue_q(today: dt.date | None = None) -> Q:
    return Q(stage__in=Lead.OPEN_STAGES, next_follow_up__lt=today or clock.today())


def lead_list(
    user: Any, params: Mapping[str, Any] | None = None, *, with_created: bool = False
) -> QuerySet[Lead]:
    """Filters: ``mine``, ``created`` (entered by the user), ``stage``, ``source``,
    ``campaign``, ``region`` (code prefix), ``owner`` (user id, or ``none`` for unassigned),
    ``overdue``, ``due`` (``today``: follow-up due today), ``duplicate``, ``q``. ``with_created`` adds the leads the user entered that
    are outside their scope (read only, see :func:`leads_readable`)."""
    params = params or {}
    base = leads_readable(user) if with_created else leads_for(user)
    qs = base.select_related("owner", "team")
    if params.get("mine") in ("1", "on", "true", True):
        qs = qs.filter(owner=user)
    if params.get("created") in ("1", "on", "true", True):
        qs = qs.filter(created_by=user)
    stage = params.get("stage")
    if stage in Lead.Stage.values:
        qs = qs.filter(stage=stage)
    elif stage == "open":
        qs = qs.filter(stage__in=Lead.OPEN_STAGES)
    source = params.get("source")
    if source in Lead.Source.values:
        qs = qs.filter(source=source)
    campaign = str(params.get("campaign") or "").strip()
    if campaign:
        qs = qs.filter(campaign=campaign)
    region = str(params.get("region") or "").strip().rstrip("0")
    if region.isdigit():
        qs = qs.filter(region_code__startswith=region)
    owner = str(params.get("owner") or "").strip()
    if owner == "none":
        qs = qs.filter(owner__isnull=True)
    elif owner.isdecimal():
        qs = qs.filter(owner_id=int(owner))
    if params.get("overdue") in ("1", "on", "true", True):
        qs = qs.filter(overdue_q())
    if params.get("due") == "today":  # the 工作台's "今日跟进" card
        qs = qs.filter(stage__in=Lead.OPEN_STAGES, next_follow_up=clock.today())
    if params.get("duplicate") in ("1", "on", "true", True):
        qs = qs.filter(is_duplicate=True)
    q = str(params.get("q") or "").strip()
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(contact_name__icontains=q) | Q(uscc=q.upper()))
    return qs.order_by("-id")


def stage_counts(qs: QuerySet[Lead]) -> dict[str, int]:
    counts = dict(qs.order_by().values_list("stage").annotate(n=Count("id")))
    return {value: counts.get(value, 0) for value in Lead.Stage.values}


def lead_get(user: Any, pk: Any, *, read_only: bool = False) -> Lead:
    """The lead if inside the user's scope — or, with ``read_only``, entered by the user;
    otherwise 404 (the attempt is audited). Every write path calls it without ``read_only``."""
    try:
        lead = Lead.objects.select_related(
            "owner", "team", "branch", "customer", "duplicate_of", "assignment_version__model"
        ).get(pk=int(pk))
    except (Lead.DoesNotExist, ValueError, TypeError):
        raise Http404 from None
    creator = (
        read_only
        and lead.created_by_id is not None
        and lead.created_by_id == getattr(user, "pk", None)
        and scope_q(user) is not None  # active, signed-in
    )
    if not creator and not can_access(lead, user):
        with transaction.atomic():
            audit_record(
                action="lead.access_denied", actor=user, obj=lead, object_repr=f"lead #{lead.pk}"
            )
        raise Http404
    return lead


def overdue_by_owner(user: Any) -> list[dict[str, Any]]:
    """Overdue follow-ups per 客户经理 within the user's scope (the team view table)."""
    rows = (
        leads_for(user)
        .filter(overdue_q(), owner__isnull=False)
        .order_by()
        .values("owner_id", "owner__username", "owner__display_name")
        .annotate(n=Count("id"))
        .order_by("-n", "owner__username")
    )
    return [
        {
            "owner_id": r["owner_id"],
            "name": r["owner__display_name"] or r["owner__username"],
            "count": r["n"],
        }
        for r in rows
    ]


def assignable_users(user: Any) -> QuerySet[Any]:
    """Users the actor may hand a lead to (active, inside the actor's scope by team/branch)."""
    from credo.accounts.models import DataScope

    qs = get_user_model().objects.filter(is_active=True).select_related("org_unit")
    scope = user.data_scope
    if user.is_superuser or scope == DataScope.ALL:
        return qs.order_by("username")
    if scope == DataScope.BRANCH and user.branch is not None:
        return qs.filter(Q(org_unit=user.branch) | Q(org_unit__parent=user.branch)).order_by(
            "username"
        )
    if scope == DataScope.TEAM and user.team is not None:
        return qs.filter(org_unit=user.team).order_by("username")
    return qs.filter(pk=user.pk)


# --- funnel --------------------------------------------------------------------------------------
def funnel(
    user: Any,
    *,
    group_by: str = "source",
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
) -> list[dict[str, Any]]:
    """Leads created in [date_from, date_to] grouped by source/campaign/region/owner/week: how
    many reached each stage and the conversion rates (percent, 1 decimal), aggregated in the
    database."""
    if group_by not in GROUPS:
        raise ValueError(group_by)
    qs = leads_for(user).order_by()
    if date_from:
        qs = qs.filter(created_at__date__gte=date_from)
    if date_to:
        qs = qs.filter(created_at__date__lte=date_to)
    key_expr: dict[str, Any] = {
        "source": F("source"),
        "campaign": F("campaign"),
        "region": F("region_code"),
        "owner": F("owner__username"),
        "week": TruncWeek("created_at"),
    }
    rows = (
        qs.annotate(group=key_expr[group_by])
        .values("group")
        .annotate(
            total=Count("id"),
            contacted=Count("id", filter=Q(contacted_at__isnull=False)),
            qualified=Count("id", filter=Q(qualified_at__isnull=False)),
            converted=Count("id", filter=Q(stage=Lead.Stage.CONVERTED)),
            lost=Count("id", filter=Q(stage=Lead.Stage.LOST)),
        )
        .order_by("group")
    )
    labels = _group_labels(group_by)
    out = []
    for r in rows:
        group = r["group"]
        if isinstance(group, dt.datetime):
            group = group.date().isoformat()
        total = r["total"]
        out.append(
            {
                "key": group or "",
                "label": labels(group) if group else "—",
                "total": total,
                "contacted": r["contacted"],
                "qualified": r["qualified"],
                "converted": r["converted"],
                "lost": r["lost"],
                "contact_rate": _pct(r["contacted"], total),
                "qualify_rate": _pct(r["qualified"], total),
                "conversion_rate": _pct(r["converted"], total),
            }
        )
    return out


def _pct(part: int, whole: int) -> float:
    # Display ratio only (not money): one decimal percent.
    return round(part * 100 / whole, 1) if whole else 0.0


def _group_labels(group_by: str) -> Any:
    if group_by == "source":
        names = dict(Lead.Source.choices)
        return lambda v: str(names.get(v, v))
    if group_by == "region":
        from credo.core.regions import full_name

        return lambda v: full_name(v) or v
    if group_by == "owner":
        users = dict(get_user_model().objects.values_list("username", "display_name"))
        return lambda v: users.get(v) or v
    return lambda v: str(v)


def search_leads(user: Any, q: str, limit: int) -> list[Any]:
    """Global search provider: lead name, contact, USCC or mobile; scoped; phone masked."""
    from django.urls import reverse

    from credo.core.crypto import blind_index
    from credo.core.ui.search import SearchHit
    from credo.customers.selectors import exact_lookup_allowed

    q = (q or "").strip()
    cond = Q(name__icontains=q) | Q(contact_name__icontains=q) | Q(uscc=q.upper())
    digits = "".join(ch for ch in q if ch.isdigit())
    # A phone match is an existence oracle on a masked value: only where the field permission
    # (or the audited lookup budget) allows it, as for customers.
    if len(digits) >= 7 and exact_lookup_allowed(
        user, "leads.lead.phone", digits, purpose="global_search"
    ):
        cond |= Q(phone_bidx=blind_index(digits, kind="phone"))
    return [
        SearchHit(
            title=lead.name,
            subtitle=f"{lead.get_stage_display()} · {lead.get_source_display()} · "
            f"{lead.owner or '—'}",
            url=reverse("leads:detail", args=[lead.pk]),
        )
        for lead in leads_readable(user)
        .filter(cond)
        .select_related("owner")
        .order_by("-id")[:limit]
    ]


def assignee_rows(user: Any) -> list[dict[str, Any]]:
    """Members of the teams the user manages with their assignment settings and load."""
    from credo.leads.models import LeadAssignee

    users = list(assignable_users(user).filter(org_unit__kind="team"))
    configs = {c.user_id: c for c in LeadAssignee.objects.filter(user__in=users)}
    since = timezone.now() - dt.timedelta(hours=24)
    stats: dict[int, Any] = {
        r["owner_id"]: r
        for r in Lead.objects.filter(owner__in=users)
        .order_by()
        .values("owner_id")
        .annotate(
            open=Count("id", filter=Q(stage__in=Lead.OPEN_STAGES)),
            recent=Count("id", filter=Q(assigned_at__gte=since)),
        )
    }
    return [
        {
            "user": u,
            "max_open": configs[u.pk].max_open if u.pk in configs else 0,
            "active": configs[u.pk].active if u.pk in configs else True,
            "open": stats.get(u.pk, {}).get("open", 0),
            "recent": stats.get(u.pk, {}).get("recent", 0),
        }
        for u in users
    ]
