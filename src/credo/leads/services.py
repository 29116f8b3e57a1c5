"""Every write to leads: keyword-only, one transaction, audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q, QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.models import OrgUnit
from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.crypto import blind_index
from credo.core.todo.services import todo_cancel_by_key, todo_create
from credo.customers.errors import CustomerError
from credo.customers.models import Customer
from credo.leads.assignment import Planner, decision_input, load_planner
from credo.leads.cleaning import clean_lead
from credo.leads.errors import InvalidLead, InvalidTransition, LeadError
from credo.leads.models import FollowUp, Lead, LeadAssignee, WebFormCounter

DECISION_KEY = "leads.assignment"
DUPLICATE_WINDOW = dt.timedelta(days=90)
MERGED_REASON = "重复"

# Allowed manual transitions. "converted" is reached only through lead_convert.
TRANSITIONS: dict[str, set[str]] = {
    Lead.Stage.NEW: {Lead.Stage.CONTACTED, Lead.Stage.QUALIFIED, Lead.Stage.LOST},
    Lead.Stage.CONTACTED: {Lead.Stage.QUALIFIED, Lead.Stage.LOST},
    Lead.Stage.QUALIFIED: {Lead.Stage.CONTACTED, Lead.Stage.LOST},
    Lead.Stage.CONVERTED: set(),
    Lead.Stage.LOST: set(),
}
_MILESTONE: dict[str, str] = {
    Lead.Stage.CONTACTED: "contacted_at",
    Lead.Stage.QUALIFIED: "qualified_at",
    Lead.Stage.CONVERTED: "converted_at",
    Lead.Stage.LOST: "lost_at",
}


def todo_key(lead: Lead) -> str:
    return f"lead-followup:{lead.pk}"


def lead_url(lead: Lead) -> str:
    return reverse("leads:detail", args=[lead.pk])


# --- duplicates ----------------------------------------------------------------------------------
def find_original(
    *,
    phone: str = "",
    uscc: str = "",
    exclude_pk: int | None = None,
    now: dt.datetime | None = None,
) -> Lead | None:
    """The earliest non-duplicate lead of the last 90 days with the same phone or USCC."""
    cond = Q()
    if phone:
        cond |= Q(phone_bidx=blind_index(phone, kind="phone"))
    if uscc:
        cond |= Q(uscc=uscc)
    if not cond:
        return None
    since = (now or timezone.now()) - DUPLICATE_WINDOW
    qs = Lead.objects.filter(cond, created_at__gte=since, is_duplicate=False)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return qs.order_by("id").first()


def find_customer(lead: Lead) -> Customer | None:
    """The customer that already holds this lead's USCC or phone (the converted one first)."""
    if lead.customer_id:
        return lead.customer
    if lead.uscc:
        found = Customer.objects.filter(uscc=lead.uscc).first()
        if found is not None:
            return found
    if lead.phone:
        return Customer.objects.filter(phone_bidx=blind_index(lead.phone, kind="phone")).first()
    return None


# --- create / update -----------------------------------------------------------------------------
@transaction.atomic
def lead_create(
    *,
    actor: Any,
    data: Mapping[str, Any],
    owner: Any = None,
    via: str = "manual",
    assign: bool = True,
) -> Lead:
    """Create a lead from raw input; flags a duplicate of an earlier lead (same phone/USCC in
    90 days); assigns it by the rules unless ``owner`` is given or ``assign`` is False."""
    values, errors = clean_lead(data)
    if errors:
        raise InvalidLead(_("线索信息有误，请检查标出的字段。"), field_errors=errors)
    lead = Lead(**values, created_by=actor if _is_user(actor) else None)
    original = find_original(phone=values.get("phone", ""), uscc=values.get("uscc", ""))
    if original is not None:
        lead.duplicate_of, lead.is_duplicate = original, True
    if owner is not None:
        _set_owner(lead, owner, timezone.now())
        lead.assignment_info = {"note": "manual"}
    lead.save()
    audit_record(
        action="lead.create",
        actor=actor,
        obj=lead,
        changes={k: [None, str(v)] for k, v in values.items() if v not in (None, "")},
        metadata={"via": via, "duplicate_of": original.pk if original else None},
    )
    if owner is None and assign:
        lead_assign(lead=lead, actor=actor)
        lead.refresh_from_db()
    return lead


@transaction.atomic
def lead_update(*, lead: Lead, actor: Any, data: Mapping[str, Any]) -> Lead:
    values, errors = clean_lead(data, partial=True)
    if errors:
        raise InvalidLead(_("线索信息有误，请检查标出的字段。"), field_errors=errors)
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    changes = {}
    for key, value in values.items():
        old = getattr(locked, key)
        if old != value:
            changes[key] = [str(old) if old is not None else None, str(value)]
            setattr(locked, key, value)
    if changes:
        locked.save()
        audit_record(action="lead.update", actor=actor, obj=locked, changes=changes)
    return locked


def _is_user(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False))


def _set_owner(lead: Lead, user: Any, at: dt.datetime) -> None:
    lead.owner = user
    lead.team = user.team or lead.team
    lead.branch = user.branch or (lead.team.branch if lead.team else None)
    lead.assigned_at = at


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


# --- follow-ups & stages -------------------------------------------------------------------------
def _set_stage(lead: Lead, stage: str, at: dt.datetime) -> None:
    lead.stage = stage
    # Reaching a later stage implies the earlier ones (the funnel counts "reached").
    order: list[str] = [Lead.Stage.CONTACTED, Lead.Stage.QUALIFIED]
    if stage in order:
        for s in order[: order.index(stage) + 1]:
            if getattr(lead, _MILESTONE[s]) is None:
                setattr(lead, _MILESTONE[s], at)
    elif stage in _MILESTONE:
        setattr(lead, _MILESTONE[stage], at)
        if stage == Lead.Stage.CONVERTED:
            for s in order:
                if getattr(lead, _MILESTONE[s]) is None:
                    setattr(lead, _MILESTONE[s], at)


def _move_todo(lead: Lead, old_owner: Any) -> None:
    if old_owner is not None and old_owner != lead.owner:
        todo_cancel_by_key(user=old_owner, dedupe_key=todo_key(lead))
        if lead.next_follow_up and lead.owner is not None:
            _upsert_todo(lead, actor=None)


def _upsert_todo(lead: Lead, *, actor: Any, next_step: str = "") -> None:
    todo_create(
        user=lead.owner,
        title=_("跟进线索：%(name)s") % {"name": lead.name},
        description=next_step,
        due_date=lead.next_follow_up,
        url=lead_url(lead),
        source="leads",
        dedupe_key=todo_key(lead),
        actor=actor,
    )


@transaction.atomic
def followup_add(
    *,
    lead: Lead,
    actor: Any,
    kind: str,
    outcome: str,
    notes: str = "",
    next_step: str = "",
    next_date: dt.date | None = None,
) -> FollowUp:
    """Log a call/visit/WeChat; the next date becomes the owner's todo; a new lead becomes
    contacted."""
    errors = {}
    if kind not in FollowUp.Kind.values:
        errors["kind"] = _("请选择跟进方式。")
    outcome = (outcome or "").strip()
    if not outcome:
        errors["outcome"] = _("请填写跟进结果。")
    if next_date is not None and next_date < clock.today():
        errors["next_date"] = _("下次跟进日期不能早于今天。")
    if errors:
        raise InvalidLead(_("跟进记录有误。"), field_errors=errors)
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if not locked.is_open:
        raise InvalidTransition(_("线索已关闭，不能再添加跟进。"))
    follow_up = FollowUp.objects.create(
        lead=locked,
        kind=kind,
        outcome=outcome[:200],
        notes=notes,
        next_step=(next_step or "")[:200],
        next_date=next_date,
        actor=actor if _is_user(actor) else None,
    )
    old_stage = locked.stage
    if locked.stage == Lead.Stage.NEW:
        _set_stage(locked, Lead.Stage.CONTACTED, timezone.now())
    locked.next_follow_up = next_date
    if locked.owner is None and _is_user(actor):
        _set_owner(locked, actor, timezone.now())
    locked.save()
    audit_record(
        action="lead.follow_up",
        actor=actor,
        obj=locked,
        changes={"stage": [old_stage, locked.stage]} if old_stage != locked.stage else {},
        metadata={"follow_up": follow_up.pk, "kind": kind, "next_date": str(next_date or "")},
    )
    if locked.owner is not None:
        if next_date is not None:
            _upsert_todo(locked, actor=actor, next_step=next_step)
        else:
            todo_cancel_by_key(user=locked.owner, dedupe_key=todo_key(locked), actor=actor)
    return follow_up


@transaction.atomic
def lead_change_stage(*, lead: Lead, stage: str, actor: Any, reason: str = "") -> Lead:
    """Move along new → contacted → qualified, or to lost (reason required). Converted is only
    reached by :func:`lead_convert`. A refused move changes nothing."""
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if stage not in Lead.Stage.values:
        raise InvalidTransition(_("未知的阶段：%(s)s") % {"s": stage})
    if stage == locked.stage:
        return locked
    if stage == Lead.Stage.CONVERTED:
        raise InvalidTransition(_("请使用“转化为客户”操作完成转化。"))
    if stage not in TRANSITIONS[locked.stage]:
        raise InvalidTransition(
            _("不能从“%(a)s”变更为“%(b)s”。")
            % {"a": locked.get_stage_display(), "b": Lead.Stage(stage).label}
        )
    reason = (reason or "").strip()
    if stage == Lead.Stage.LOST and not reason:
        raise InvalidTransition(
            _("标记为流失必须填写原因。"), field_errors={"reason": _("请填写流失原因。")}
        )
    old = locked.stage
    _set_stage(locked, stage, timezone.now())
    if stage == Lead.Stage.LOST:
        locked.lost_reason = reason[:200]
        locked.next_follow_up = None
    locked.save()
    audit_record(
        action="lead.stage",
        actor=actor,
        obj=locked,
        changes={"stage": [old, stage]},
        metadata={"reason": reason} if reason else {},
    )
    if stage == Lead.Stage.LOST and locked.owner is not None:
        todo_cancel_by_key(user=locked.owner, dedupe_key=todo_key(locked), actor=actor)
    return locked


# --- merge / conversion --------------------------------------------------------------------------
@transaction.atomic
def lead_merge(*, lead: Lead, actor: Any) -> Lead:
    """Merge a flagged duplicate into its original: follow-ups move, the duplicate is closed as
    lost with reason “重复”. Returns the original."""
    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if not locked.is_duplicate or locked.duplicate_of_id is None:
        raise LeadError(_("该线索未被标记为重复，无法合并。"))
    if not locked.is_open:
        raise InvalidTransition(_("线索已关闭，不能合并。"))
    original = Lead.objects.select_for_update().get(pk=locked.duplicate_of_id)
    moved = FollowUp.objects.filter(lead=locked).update(lead=original)
    _set_stage(locked, Lead.Stage.LOST, timezone.now())
    locked.lost_reason = MERGED_REASON
    locked.next_follow_up = None
    locked.save()
    audit_record(
        action="lead.merge",
        actor=actor,
        obj=locked,
        changes={"stage": ["open", Lead.Stage.LOST]},
        metadata={"into": original.pk, "follow_ups_moved": moved},
    )
    if locked.owner is not None:
        todo_cancel_by_key(user=locked.owner, dedupe_key=todo_key(locked), actor=actor)
    return original


@transaction.atomic
def lead_convert(
    *, lead: Lead, actor: Any, data: Mapping[str, Any] | None = None
) -> tuple[Lead, Customer, bool]:
    """Qualified (or any open) lead → customer. Links to the customer that already holds the
    USCC/phone; otherwise creates one (``data`` supplies kind and 身份证号 for individuals).
    The follow-ups are copied onto the customer timeline. Returns (lead, customer, linked)."""
    from credo.customers.events import record_event
    from credo.customers.services import customer_create

    locked = Lead.objects.select_for_update().get(pk=lead.pk)
    if not locked.is_open:
        raise InvalidTransition(_("只有未关闭的线索可以转化。"))
    existing = find_customer(locked)
    linked = existing is not None
    if existing is not None:
        customer = existing
    else:
        extra = dict(data or {})
        kind = extra.get("kind") or ("enterprise" if locked.uscc else "individual")
        profile = {
            "kind": kind,
            "name": extra.get("name") or locked.name,
            "uscc": locked.uscc,
            "phone": locked.phone,
            "region_code": locked.region_code,
            "id_number": extra.get("id_number", ""),
            "legal_representative": extra.get("legal_representative", "")
            or (locked.contact_name if kind == "enterprise" else ""),
        }
        try:
            customer = customer_create(
                actor=actor, data=profile, owner=locked.owner or actor, source=_("线索转化")
            )
        except CustomerError as exc:
            raise InvalidLead(exc.message, field_errors=exc.field_errors) from None
    old = locked.stage
    _set_stage(locked, Lead.Stage.CONVERTED, timezone.now())
    locked.customer = customer
    locked.next_follow_up = None
    locked.save()
    for follow_up in locked.follow_ups.select_related("actor").order_by("created_at", "id"):
        record_event(
            customer=customer,
            kind="follow_up",
            title=f"{follow_up.get_kind_display()}：{follow_up.outcome}",
            actor=follow_up.actor,
            detail={
                "notes": follow_up.notes,
                "next_step": follow_up.next_step,
                "next_date": str(follow_up.next_date or ""),
                "lead": locked.pk,
            },
            source="leads",
            obj=follow_up,
            occurred_at=follow_up.created_at,
        )
    record_event(
        customer=customer,
        kind="other",
        title=_("由线索转化（%(source)s）") % {"source": locked.get_source_display()},
        actor=actor,
        detail={"lead": locked.pk, "campaign": locked.campaign, "linked": linked},
        source="leads",
        obj=locked,
    )
    audit_record(
        action="lead.convert",
        actor=actor,
        obj=locked,
        changes={"stage": [old, Lead.Stage.CONVERTED], "customer": [None, customer.pk]},
        metadata={"linked_existing": linked},
    )
    if locked.owner is not None:
        todo_cancel_by_key(user=locked.owner, dedupe_key=todo_key(locked), actor=actor)
    return locked, customer, linked


# --- departing employee --------------------------------------------------------------------------
def book_of(user: Any) -> tuple[QuerySet[Lead], QuerySet[Customer]]:
    """The open leads and the customers owned by ``user`` (what a hand-over moves)."""
    leads = Lead.objects.filter(owner=user, stage__in=Lead.OPEN_STAGES).order_by("id")
    customers = Customer.objects.filter(owner=user).order_by("id")
    return leads, customers


@transaction.atomic
def book_reassign(*, from_user: Any, to_user: Any, actor: Any) -> dict[str, int]:
    """Hand a departing employee's whole book (open leads and customers) to ``to_user``."""
    from credo.customers.services import customer_reassign

    if from_user.pk == to_user.pk:
        raise LeadError(_("移交对象不能是同一个人。"))
    if not to_user.is_active:
        raise LeadError(_("接收人已停用。"))
    leads, customers = book_of(from_user)
    lead_list = list(leads.select_for_update())
    now = timezone.now()
    for lead in lead_list:
        _set_owner(lead, to_user, now)
        lead.assignment_info = {**lead.assignment_info, "note": "handover"}
    Lead.objects.bulk_update(
        lead_list, ["owner", "team", "branch", "assigned_at", "assignment_info"]
    )
    for lead in lead_list:
        todo_cancel_by_key(user=from_user, dedupe_key=todo_key(lead))
        if lead.next_follow_up:
            _upsert_todo(lead, actor=actor)
    customer_count = 0
    for customer in customers:
        customer_reassign(customer=customer, new_owner=to_user, actor=actor)
        customer_count += 1
    counts = {"leads": len(lead_list), "customers": customer_count}
    audit_record(
        action="lead.book_reassign",
        actor=actor,
        obj=to_user,
        changes={"owner": [str(from_user), str(to_user)]},
        metadata={**counts, "lead_ids": [lead.pk for lead in lead_list][:1000]},
    )
    return counts


# --- public web form counters --------------------------------------------------------------------
def webform_count(*, kind: str, day: dt.date | None = None) -> None:
    """Count an accepted or rejected public-form submission (nothing else is stored for spam)."""
    from django.db.models import F

    if kind not in ("accepted", "honeypot", "rate_limited"):
        raise ValueError(kind)
    day = day or clock.today()
    with transaction.atomic():
        counter, _created = WebFormCounter.objects.get_or_create(day=day)
        WebFormCounter.objects.filter(pk=counter.pk).update(**{kind: F(kind) + 1})


def follow_up_reminders_send(today: dt.date | None = None) -> int:
    """Notify the owner of every open lead whose next follow-up date is ``today``; the
    dedupe key makes a re-run of the same day send nothing new."""
    from credo.notify.services import notify

    today = today or clock.today()
    sent = 0
    for lead in (
        Lead.objects.filter(stage__in=Lead.OPEN_STAGES, next_follow_up=today, owner__isnull=False)
        .select_related("owner")
        .iterator(chunk_size=500)
    ):
        messages = notify(
            template="leads.follow_up_due",
            context={"lead": lead.name, "date": today.isoformat()},
            user=lead.owner,
            dedupe_key=f"lead-follow-up:{lead.pk}:{today.isoformat()}",
            url=f"/leads/{lead.pk}/",
        )
        sent += 1 if messages else 0
    return sent
