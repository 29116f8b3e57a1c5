"""Assigning leads to people: by the rules (one, many, the scheduled retry) or by hand."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.models import OrgUnit
from credo.core.audit.services import audit_record
from credo.leads.assignment import Planner, decision_input, load_planner
from credo.leads.errors import InvalidLead, InvalidTransition, LeadError
from credo.leads.models import Lead, LeadAssignee
from credo.leads.services.common import (
    DECISION_KEY,
    _move_todo,
    _set_owner,
)


# --- assignment ----------------------------------------------------------------------------------
def _teams_by_code(codes: Iterable[str]) -> dict[str, OrgUnit]:
    codes = {c for c in codes if c}
    return {
        u.code: u
        for u in OrgUnit.objects.filter(code__in=codes, is_active=True).select_related("parent")
    }


def _apply(
    lead: Lead,
    decision: Any,
    planner: Planner,
    teams: Mapping[str, OrgUnit],
    users: Mapping[int, Any],
    at: dt.datetime,
) -> str:
    """Apply one decision to ``lead`` (in memory) and to the planner state; returns the note."""
    result = decision.result or {}
    team = teams.get(str(result.get("team") or ""))
    username = str(result.get("user") or "")
    user_id, note = planner.choose(team_id=team.pk if team else None, username=username)
    lead.assignment_version = decision.version
    lead.assignment_evaluation_id = decision.evaluation.pk if decision.evaluation else None
    lead.assignment_info = {
        "result": result,
        "reasons": decision.reasons,
        "note": note,
        "version": decision.version.number,
    }
    if team is not None:
        lead.team, lead.branch = team, team.branch
    if user_id is not None:
        planner.commit(user_id, at)
        _set_owner(lead, users[user_id], at)
    return note


def _users(planner: Planner) -> dict[int, Any]:
    return {
        u.pk: u
        for u in get_user_model()
        .objects.filter(pk__in=list(planner.slots))
        .select_related("org_unit__parent")
    }


@transaction.atomic
def lead_assign(*, lead: Lead, actor: Any = None) -> Lead:
    """Evaluate the assignment rules for one lead and give it to a person (or leave it with the
    team, unassigned, when nobody is available — the scheduled task retries)."""
    from credo.rules.services import evaluate

    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if not locked.is_open:
        raise InvalidTransition(_("已关闭的线索不能再分配。"))
    decision = evaluate(DECISION_KEY, decision_input(locked), subject=locked)
    result = decision.result or {}
    teams = _teams_by_code([str(result.get("team") or "")])
    # Serialise assignments into one team (row lock on the team) so the cap holds.
    if teams:
        list(OrgUnit.objects.select_for_update().filter(pk__in=[t.pk for t in teams.values()]))
    now = timezone.now()
    planner = load_planner(
        team_ids=[t.pk for t in teams.values()],
        usernames=[str(result.get("user") or "")],
        now=now,
    )
    old_owner = locked.owner
    note = _apply(locked, decision, planner, teams, _users(planner), now)
    locked.save()
    audit_record(
        action="lead.assign",
        actor=actor,
        obj=locked,
        changes={"owner": [str(old_owner or ""), str(locked.owner or "")]},
        metadata={"rule_version": decision.version.number, "note": note, "result": result},
    )
    _move_todo(locked, old_owner)
    return locked


def leads_assign_bulk(*, leads: Iterable[Lead], actor: Any = None) -> int:
    """Assign many leads with one published version and one in-memory state: the same owners
    as calling :func:`lead_assign` for each lead in order. Returns how many got an owner."""
    from credo.rules.services import evaluate_many

    leads = [lead for lead in leads if lead.is_open]
    if not leads:
        return 0
    with transaction.atomic():
        decisions = evaluate_many(DECISION_KEY, [(lead, decision_input(lead)) for lead in leads])
        teams = _teams_by_code(str((d.result or {}).get("team") or "") for d in decisions)
        if teams:
            list(OrgUnit.objects.select_for_update().filter(pk__in=[t.pk for t in teams.values()]))
        now = timezone.now()
        planner = load_planner(
            team_ids=[t.pk for t in teams.values()],
            usernames=[str((d.result or {}).get("user") or "") for d in decisions],
            now=now,
        )
        users = _users(planner)
        assigned = 0
        for i, (lead, decision) in enumerate(zip(leads, decisions, strict=True)):
            # Strictly increasing times keep "least recently assigned" identical to one-by-one.
            _apply(lead, decision, planner, teams, users, now + dt.timedelta(microseconds=i))
            assigned += lead.owner_id is not None
        _write_assignments(leads)
        audit_record(
            action="lead.assign_bulk",
            actor=actor,
            object_type="leads.lead",
            metadata={"count": len(leads), "assigned": assigned},
        )
    return assigned


_ASSIGNMENT_FIELDS = (
    "owner",
    "team",
    "branch",
    "assigned_at",
    "assignment_version",
    "assignment_evaluation_id",
    "assignment_info",
)


def _write_assignments(leads: list[Lead]) -> None:
    """One parameterised UPDATE per lead through ``executemany`` (psycopg pipelines it):
    ``bulk_update``'s CASE expressions cost ~3 s per 1,000 rows in Python alone."""
    from django.db import connection

    fields: list[Any] = [Lead._meta.get_field(name) for name in _ASSIGNMENT_FIELDS]
    qn = connection.ops.quote_name
    # Only quoted model metadata is interpolated; every value is a parameter.
    sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608
        qn(Lead._meta.db_table),
        ", ".join(f"{qn(f.column)} = %s" for f in fields),
        qn(str(Lead._meta.pk.column)),  # type: ignore[union-attr]
    )
    params = [
        [f.get_db_prep_save(getattr(lead, f.attname), connection) for f in fields] + [lead.pk]
        for lead in leads
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def assign_unassigned(*, actor: Any = None, limit: int = 5000) -> int:
    """The scheduled retry: every open lead without an owner, oldest first."""
    leads = list(
        Lead.objects.filter(owner__isnull=True, stage__in=Lead.OPEN_STAGES).order_by("id")[:limit]
    )
    return leads_assign_bulk(leads=leads, actor=actor)


@transaction.atomic
def lead_assign_to(*, lead: Lead, user: Any, actor: Any) -> Lead:
    """Manual assignment by a team lead."""
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if not locked.is_open:
        raise InvalidTransition(_("已关闭的线索不能再分配。"))
    if not user.is_active:
        raise LeadError(_("该用户已停用。"))
    old = locked.owner
    _set_owner(locked, user, timezone.now())
    locked.assignment_info = {**locked.assignment_info, "note": "manual"}
    locked.save()
    audit_record(
        action="lead.assign_manual",
        actor=actor,
        obj=locked,
        changes={"owner": [str(old or ""), str(user)]},
    )
    _move_todo(locked, old)
    return locked


@transaction.atomic
def assignee_configure(*, user: Any, max_open: int, active: bool, actor: Any) -> LeadAssignee:
    if max_open < 0:
        raise InvalidLead(_("上限不能为负数。"))
    config, _created = LeadAssignee.objects.select_for_update().get_or_create(user=user)
    before = {"max_open": config.max_open, "active": config.active}
    config.max_open, config.active = max_open, active
    config.save()
    audit_record(
        action="lead.assignee_configure",
        actor=actor,
        obj=config,
        changes={k: [before[k], getattr(config, k)] for k in before},
    )
    return config
