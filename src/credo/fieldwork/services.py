"""Writes of field work: the inspection plan job, inspection results, visit check-ins, photos,
customer address coordinates. Every write is one transaction, audited, on the timeline."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from credo.accounts.scope import can_access
from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.core.bulk import json_bulk_insert
from credo.core.money import fen_of
from credo.core.todo.models import Todo
from credo.core.todo.services import todo_cancel_by_key, todo_complete
from credo.customers.events import record_event
from credo.customers.models import Customer
from credo.fieldwork import checklist, geo
from credo.fieldwork import states as _states  # noqa: F401 — registers the machine
from credo.fieldwork.decisions import KEY as PLAN_KEY
from credo.fieldwork.decisions import inputs_for
from credo.fieldwork.errors import InvalidState, InvalidSubmission, NotPermitted
from credo.fieldwork.models import CustomerSite, FieldPhoto, Inspection, Visit
from credo.lending.models import Loan

logger = logging.getLogger(__name__)

OPEN_LOANS = (Loan.Status.ACTIVE, Loan.Status.OVERDUE)
MIN_INSPECTION_PHOTOS = 1
MAX_PHOTOS = 9
# the browser compresses to ~1600 px JPEG (a few hundred KB); a camera original is refused here
# rather than filling the document store
MAX_PHOTO_BYTES = 5 * 1024 * 1024
PHOTO_ITEM = "现场照片"
FAILED_ALERT_CODE = "inspection_failed"


def todo_key(inspection_id: int) -> str:
    return f"fieldwork:inspection:{inspection_id}"


# --- the plan job ---------------------------------------------------------------------------------
PLAN_CHUNK = 5000
# the columns of the bulk inserts (``json_bulk_insert``: one JSON array per 5,000 rows; Django's
# bulk_create spent most of the first night's 100,000 inspections quoting values)
INSPECTION_COLUMNS = {
    "loan": "bigint",
    "customer": "bigint",
    "kind": "text",
    "status": "text",
    "due_date": "date",
    "planned_on": "date",
    "frequency_days": "integer",
    "plan_version": "bigint",
    "plan_reasons": "jsonb",
    "assignee": "bigint",
    "owner": "bigint",
    "team": "bigint",
    "branch": "bigint",
    "result": "text",
    "answers": "jsonb",
    "notes": "text",
}
TODO_COLUMNS = {
    "user": "bigint",
    "title": "text",
    "description": "text",
    "due_date": "date",
    "url": "text",
    "source": "text",
    "status": "text",
    "priority": "smallint",
    "dedupe_key": "text",
}


@dataclass(frozen=True)
class _Candidate:
    """The columns of an open loan the plan reads (a tuple per loan, no model instances)."""

    loan_id: int
    number: str
    start_date: dt.date
    classification: str
    outstanding_fen: int
    customer_id: int
    customer_name: str
    risk_grade: str
    owner_id: int
    owner_active: bool
    customer_owner_id: int
    team_id: int | None
    branch_id: int | None


def plan_inspections(business_date: dt.date, *, actor: Any = None) -> dict[str, int]:
    """Create the inspections that are due (within the rule's notice days) for ``business_date``,
    each assigned to the loan's account manager with a todo; cancel the open inspections of
    loans that left the book. Idempotent: one open inspection per loan (a partial unique index),
    so re-running the same date — or running it concurrently — creates nothing twice.

    Set-based: the candidate loans are read as tuples in one query, the decision is evaluated
    once per distinct input (five-class, risk grade, amount), and the inspections and todos of
    each chunk are bulk-inserted; one audit row summarises the run. The number of queries does
    not grow with the number of loans (only with the number of ``PLAN_CHUNK`` chunks)."""
    from credo.rules.services import published_version

    counts = {"created": 0, "cancelled": 0, "evaluated": 0}
    counts["cancelled"] = _cancel_closed(actor)
    version = published_version(PLAN_KEY)
    candidates = _candidates()
    last_done = _last_completed()
    cache: dict[tuple[Any, ...], tuple[dict[str, Any], list[dict[str, Any]]]] = {}
    due: list[tuple[_Candidate, str, dt.date, int, dict[str, Any], list[dict[str, Any]]]] = []
    for c in candidates:
        data = inputs_for(
            classification=c.classification,
            risk_grade=c.risk_grade,
            amount_fen=c.outstanding_fen,
        )
        result, reasons = _evaluate(version, data, cache, counts)
        first_days = int(result.get("first_within_days") or 30)
        freq = int(result.get("frequency_days") or 180)
        notice = int(result.get("notice_days") or 0)
        last = last_done.get(c.loan_id)
        if last is None:
            kind, due_date = Inspection.Kind.FIRST, c.start_date + dt.timedelta(days=first_days)
        else:
            kind, due_date = Inspection.Kind.PERIODIC, last + dt.timedelta(days=freq)
        if due_date - dt.timedelta(days=notice) > business_date:
            continue
        due.append((c, kind, due_date, freq, data, reasons))
    created: list[tuple[int, str]] = []
    for start in range(0, len(due), PLAN_CHUNK):
        created.extend(_create_chunk(due[start : start + PLAN_CHUNK], business_date, version))
    counts["created"] = len(created)
    if created:
        audit_record(
            action="fieldwork.inspections_planned",
            actor=actor,
            object_type="fieldwork.inspection",
            metadata={
                "business_date": business_date.isoformat(),
                "rule_version": version.pk,
                "created": len(created),
                "first": sum(1 for _pk, kind in created if kind == Inspection.Kind.FIRST),
                "evaluated": counts["evaluated"],
                "candidates": len(candidates),
                "first_id": min(pk for pk, _kind in created),
                "last_id": max(pk for pk, _kind in created),
            },
        )
    return counts


def _candidates() -> list[_Candidate]:
    """Disbursed open loans without an open inspection, by id, as tuples (one query)."""
    open_ids = Inspection.objects.filter(status=Inspection.Status.PLANNED).values("loan_id")
    rows = (
        Loan.objects.filter(status__in=OPEN_LOANS, start_date__isnull=False)
        .exclude(pk__in=open_ids)
        .order_by("pk")
        .values_list(
            "pk",
            "number",
            "start_date",
            "classification",
            "outstanding_principal",
            "customer_id",
            "customer__name",
            "customer__risk_grade",
            "owner_id",
            "owner__is_active",
            "customer__owner_id",
            "team_id",
            "branch_id",
        )
    )
    out = []
    for r in rows:
        assert r[2] is not None  # start_date__isnull=False
        out.append(
            _Candidate(
                r[0],
                r[1],
                r[2],
                r[3],
                fen_of(r[4]),
                r[5],
                r[6],
                r[7],
                r[8],
                r[9],
                r[10],
                r[11],
                r[12],
            )
        )
    return out


def _last_completed() -> dict[int, dt.date]:
    """Each loan's latest completed inspection date (one grouped query)."""
    return dict(
        Inspection.objects.filter(status=Inspection.Status.COMPLETED)
        .order_by()
        .values("loan_id")
        .annotate(last=Max("completed_on"))
        .values_list("loan_id", "last")
    )


def _evaluate(
    version: Any, data: dict[str, Any], cache: dict[tuple[Any, ...], Any], counts: dict[str, int]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    from credo.rules.services import run_version

    sig = tuple(sorted(data.items()))
    if sig not in cache:
        cache[sig] = run_version(version, data, trace=True)
        counts["evaluated"] += 1
    return cache[sig]  # type: ignore[no-any-return]


def _create_chunk(
    items: list[tuple[_Candidate, str, dt.date, int, dict[str, Any], list[dict[str, Any]]]],
    day: dt.date,
    version: Any,
) -> list[tuple[int, str]]:
    """The inspections and todos of ``items`` in one transaction, bulk-inserted; the (id, kind)
    of the inspections created. A concurrent run that planned one of these loans first makes the bulk
    insert hit the one-open-per-loan index: the chunk is then re-done without the loans that
    have an open inspection by now."""
    try:
        with transaction.atomic():
            return _insert_chunk(items, day, version)
    except IntegrityError:
        planned = set(
            Inspection.objects.filter(
                status=Inspection.Status.PLANNED, loan_id__in=[c.loan_id for c, *_r in items]
            ).values_list("loan_id", flat=True)
        )
        rest = [item for item in items if item[0].loan_id not in planned]
        if not rest:
            return []
        with transaction.atomic():
            return _insert_chunk(rest, day, version)


def _insert_chunk(
    items: list[tuple[_Candidate, str, dt.date, int, dict[str, Any], list[dict[str, Any]]]],
    day: dt.date,
    version: Any,
) -> list[tuple[int, str]]:
    kinds = dict(Inspection.Kind.choices)
    rows = [
        Inspection(
            loan_id=c.loan_id,
            customer_id=c.customer_id,
            kind=kind,
            status=Inspection.Status.PLANNED,
            due_date=due,
            planned_on=day,
            frequency_days=freq,
            plan_version_id=version.pk,
            plan_reasons=reasons,
            assignee_id=c.owner_id if c.owner_active else c.customer_owner_id,
            owner_id=c.owner_id,
            team_id=c.team_id,
            branch_id=c.branch_id,
        )
        for c, kind, due, freq, _data, reasons in items
    ]
    # not ignore_conflicts: a row hitting the one-open-per-loan index fails the chunk, which
    # _create_chunk re-does without that loan
    json_bulk_insert(rows, INSPECTION_COLUMNS)
    form_url = reverse("fieldwork:inspection_form", args=[0]).replace("/0/", "/{}/")
    title, description = _("贷后检查：%(c)s（贷款 %(n)s）"), _("%(k)s，应于 %(d)s 前完成。")
    todos = [
        Todo(
            user_id=insp.assignee_id,
            title=(title % {"c": c.customer_name, "n": c.number})[:200],
            description=description % {"k": kinds[insp.kind], "d": insp.due_date},
            due_date=insp.due_date,
            url=form_url.format(insp.pk),
            source="fieldwork",
            status=Todo.Status.OPEN,
            priority=Todo.Priority.HIGH if insp.due_date <= day else Todo.Priority.NORMAL,
            dedupe_key=todo_key(insp.pk),
        )
        for insp, (c, *_rest) in zip(rows, items, strict=True)
    ]
    # the keys name brand-new inspections: a conflict is only ever a concurrent duplicate
    json_bulk_insert(todos, TODO_COLUMNS, ignore_conflicts=True)
    return [(insp.pk, insp.kind) for insp in rows]


def _cancel_closed(actor: Any) -> int:
    stale = list(
        Inspection.objects.filter(status=Inspection.Status.PLANNED)
        .exclude(loan__status__in=OPEN_LOANS)
        .values_list("pk", "assignee_id")
    )
    if not stale:
        return 0
    from credo.accounts.models import User

    with transaction.atomic():
        n = fsm.transition_queryset(
            Inspection.objects.filter(pk__in=[pk for pk, _a in stale]), Inspection.Status.CANCELLED
        )
        users = {u.pk: u for u in User.objects.filter(pk__in={a for _p, a in stale})}
        for pk, assignee_id in stale:
            todo_cancel_by_key(user=users[assignee_id], dedupe_key=todo_key(pk), actor=actor)
        audit_record(
            action="fieldwork.inspections_cancelled",
            actor=actor,
            object_type="fieldwork.inspection",
            metadata={"ids": [pk for pk, _a in stale], "reason": "loan closed"},
        )
    return n


def on_eod_done(run: Any) -> dict[str, int]:
    """After-close job ``fieldwork.plan``: the inspection plan for the run's business date."""
    return plan_inspections(run.business_date)


# --- photos ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


def _check_photos(uploads: Iterable[Upload], errors: dict[str, str]) -> list[Any]:
    from credo.origination import documents
    from credo.origination.errors import InvalidDocument

    checked = []
    uploads = list(uploads)
    if len(uploads) > MAX_PHOTOS:
        errors["photos"] = _("最多上传 %(n)s 张照片。") % {"n": MAX_PHOTOS}
        return []
    for up in uploads:
        if len(up.data) > MAX_PHOTO_BYTES:
            errors["photos"] = _("照片过大（超过 5 MB），请重新拍摄。")
            return []
        name = up.name or "photo.jpg"
        try:
            c = documents.check_upload(item=PHOTO_ITEM, name=name, data=up.data)
        except InvalidDocument as exc:
            errors["photos"] = exc.message
            return []
        if c.kind not in ("jpg", "png"):
            errors["photos"] = _("只接受 JPG 或 PNG 照片。")
            return []
        checked.append((name, c))
    return checked


def _store_photos(checked: list[Any], actor: Any, **parent: Any) -> list[FieldPhoto]:
    from credo.origination import documents

    rows: list[FieldPhoto] = []
    stored: list[str] = []
    try:
        for name, c in checked:
            stored_name = documents.store(c)
            stored.append(stored_name)
            rows.append(
                FieldPhoto.objects.create(
                    stored_name=stored_name,
                    original_name=name[:200],
                    content_type=c.content_type,
                    size=len(c.data),
                    sha256=c.sha256,
                    taken_by=actor,
                    **parent,
                )
            )
    except Exception:
        for s in stored:
            documents.remove(s)
        raise
    return rows


# --- location -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Location:
    latitude: Decimal
    longitude: Decimal
    accuracy_m: int | None
    located_at: dt.datetime


def parse_location(data: Mapping[str, Any], errors: dict[str, str]) -> Location | None:
    """The browser's position from the form fields; None when the phone gave none."""
    lat, lng = str(data.get("latitude") or "").strip(), str(data.get("longitude") or "").strip()
    if not lat and not lng:
        return None
    try:
        la, lo = (
            Decimal(lat).quantize(Decimal("0.000001")),
            Decimal(lng).quantize(Decimal("0.000001")),
        )
    except (InvalidOperation, ValueError):
        errors["location"] = _("定位数据无效。")
        return None
    if not geo.valid(float(la), float(lo)):
        errors["location"] = _("定位数据无效。")
        return None
    acc_raw = str(data.get("accuracy") or "").strip()
    try:
        acc = max(0, round(float(acc_raw))) if acc_raw else None
    except ValueError:
        acc = None
    at = parse_datetime(str(data.get("located_at") or "")) or timezone.now()
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    return Location(la, lo, acc, at)


def _apply_location(obj: Any, loc: Location | None, customer: Customer) -> None:
    if loc is None:
        return
    obj.latitude, obj.longitude = loc.latitude, loc.longitude
    obj.accuracy_m, obj.located_at = loc.accuracy_m, loc.located_at
    site = CustomerSite.objects.filter(customer=customer).first()
    if site is not None:
        obj.distance_m = geo.distance_m(loc.latitude, loc.longitude, site.latitude, site.longitude)


def _uuid(value: Any, errors: dict[str, str]) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(str(value))
    except ValueError:
        errors["client_uuid"] = _("草稿编号无效。")
        return None


# --- inspections ----------------------------------------------------------------------------------
def may_perform(inspection: Inspection, actor: Any) -> bool:
    if actor is None or not actor.has_perm("fieldwork.perform_inspection"):
        return False
    return inspection.assignee_id == actor.pk or can_access(inspection, actor)


def inspection_submit(
    *,
    inspection: Inspection,
    actor: Any,
    answers: Mapping[str, str],
    result: str,
    notes: str = "",
    location: Mapping[str, Any] | None = None,
    photos: Iterable[Upload] = (),
    client_uuid: Any = None,
) -> tuple[Inspection, bool]:
    """Record the result of a planned inspection (from the phone; a draft synced later carries
    the UUID the phone gave it, so a retried sync returns the first result instead of failing or
    recording twice). Returns ``(inspection, created)``. A failed inspection (结论“异常”) opens a
    monitoring alert on the loan."""
    errors: dict[str, str] = {}
    key = _uuid(client_uuid, errors)
    if key is not None:
        done = Inspection.objects.filter(client_uuid=key).first()
        if done is not None:
            if done.pk != inspection.pk:
                raise InvalidState(_("该草稿已用于另一项检查。"))
            return done, False
    if not may_perform(inspection, actor):
        raise NotPermitted(_("无权执行该贷后检查。"))
    answers = {k: str(v) for k, v in (answers or {}).items() if v is not None}
    errors.update(checklist.validate(answers))
    if result not in (Inspection.Result.PASS, Inspection.Result.FAIL):
        errors["result"] = _("请选择检查结论。")
    notes = (notes or "").strip()
    if (result == Inspection.Result.FAIL or checklist.issues(answers)) and not notes:
        errors["notes"] = _("有异常时必须填写检查情况说明。")
    loc = parse_location(location or {}, errors)
    uploads = list(photos)
    if len(uploads) < MIN_INSPECTION_PHOTOS:
        errors["photos"] = _("请至少拍摄 %(n)s 张现场照片。") % {"n": MIN_INSPECTION_PHOTOS}
    checked = _check_photos(uploads, errors) if "photos" not in errors else []
    if errors:
        raise InvalidSubmission(errors=errors)
    with transaction.atomic():
        insp = (
            Inspection.objects.select_for_update(of=("self",))
            .select_related("loan", "customer")
            .get(pk=inspection.pk)
        )
        if key is not None and Inspection.objects.filter(client_uuid=key).exists():
            return Inspection.objects.get(client_uuid=key), False  # synced concurrently
        if insp.status != Inspection.Status.PLANNED:
            raise InvalidState(
                _("该检查当前状态为“%(s)s”，不能再提交。") % {"s": insp.get_status_display()}
            )
        insp.answers = {i.key: answers.get(i.key, "") for i in checklist.CHECKLIST}
        insp.result = result
        insp.notes = notes[:5000]
        insp.client_uuid = key
        insp.completed_at = timezone.now()
        insp.completed_on = timezone.localdate(insp.completed_at)
        insp.completed_by = actor
        _apply_location(insp, loc, insp.customer)
        fsm.transition(
            insp,
            Inspection.Status.COMPLETED,
            update_fields=[
                "answers",
                "result",
                "notes",
                "client_uuid",
                "completed_at",
                "completed_on",
                "completed_by",
                "latitude",
                "longitude",
                "accuracy_m",
                "located_at",
                "distance_m",
            ],
        )
        photos_saved = _store_photos(checked, actor, inspection=insp)
        issues = checklist.issues(insp.answers)
        audit_record(
            action="fieldwork.inspection_completed",
            actor=actor,
            obj=insp,
            changes={"status": [Inspection.Status.PLANNED, insp.status], "result": insp.result},
            metadata={
                "loan": insp.loan.number,
                "photos": len(photos_saved),
                "issues": issues,
                "client_uuid": str(key) if key else "",
                "located": loc is not None,
                "distance_m": insp.distance_m,
            },
        )
        label = insp.get_result_display()
        record_event(
            customer=insp.customer,
            kind="follow_up",
            actor=actor,
            obj=insp,
            source="fieldwork",
            title=_("贷后检查（%(r)s）：贷款 %(n)s%(i)s")
            % {
                "r": label,
                "n": insp.loan.number,
                "i": ("，异常项：" + "、".join(issues)) if issues else "",
            },
            detail={
                "inspection": insp.pk,
                "result": insp.result,
                "photos": len(photos_saved),
                "distance_m": insp.distance_m,
            },
        )
        if insp.assignee_id == actor.pk:
            todo = Todo.objects.filter(user=actor, dedupe_key=todo_key(insp.pk)).first()
            if todo is not None and todo.status == Todo.Status.OPEN:
                todo_complete(todo=todo, actor=actor)
        else:
            todo_cancel_by_key(user=insp.assignee, dedupe_key=todo_key(insp.pk), actor=actor)
        if insp.result == Inspection.Result.FAIL:
            _raise_alert(insp, issues, actor)
    return insp, True


def _raise_alert(insp: Inspection, issues: list[str], actor: Any) -> None:
    from credo.monitoring.services import alert_raise

    alert, _created = alert_raise(
        loan=insp.loan,
        code=FAILED_ALERT_CODE,
        name=_("贷后检查异常"),
        severity="high",
        sla_hours=24,
        reasons=[
            {"description": _("贷后检查结论为异常（检查 #%(n)s）") % {"n": insp.pk}},
            *({"description": i} for i in issues),
        ],
        snapshot={
            "inspection": insp.pk,
            "completed_on": insp.completed_on.isoformat() if insp.completed_on else "",
            "issues": issues,
        },
        actor=actor,
        note=insp.notes[:100],
    )
    insp.alert_id = alert.pk
    insp.save(update_fields=["alert_id"])


# --- visits ---------------------------------------------------------------------------------------
def visit_record(
    *,
    actor: Any,
    customer: Customer,
    purpose: str,
    notes: str = "",
    location: Mapping[str, Any] | None = None,
    photos: Iterable[Upload] = (),
    client_uuid: Any = None,
) -> tuple[Visit, bool]:
    """A visit check-in (走访签到); idempotent by the phone's draft UUID. Returns
    ``(visit, created)``."""
    if actor is None or not actor.has_perm("fieldwork.add_visit"):
        raise NotPermitted()
    errors: dict[str, str] = {}
    key = _uuid(client_uuid, errors) or uuid.uuid4()
    existing = Visit.objects.filter(client_uuid=key).first()
    if existing is not None:
        if existing.owner_id != actor.pk:
            raise InvalidState(_("该草稿已由其他人提交。"))
        return existing, False
    if not can_access(customer, actor):
        raise NotPermitted(_("无权访问该客户。"))
    if purpose not in Visit.Purpose.values:
        errors["purpose"] = _("请选择走访目的。")
    loc = parse_location(location or {}, errors)
    checked = _check_photos(photos, errors)
    if errors:
        raise InvalidSubmission(errors=errors)
    try:
        with transaction.atomic():
            visit = Visit(
                client_uuid=key,
                customer=customer,
                purpose=purpose,
                notes=(notes or "").strip()[:5000],
                visited_at=loc.located_at if loc else timezone.now(),
                owner=actor,
                team=actor.team,
                branch=actor.branch,
            )
            _apply_location(visit, loc, customer)
            visit.save()
            saved = _store_photos(checked, actor, visit=visit)
            audit_record(
                action="fieldwork.visit_recorded",
                actor=actor,
                obj=visit,
                metadata={
                    "customer": customer.pk,
                    "purpose": purpose,
                    "photos": len(saved),
                    "located": loc is not None,
                    "distance_m": visit.distance_m,
                    "client_uuid": str(key),
                },
            )
            record_event(
                customer=customer,
                kind="follow_up",
                actor=actor,
                obj=visit,
                source="fieldwork",
                title=_("走访签到（%(p)s）%(n)s")
                % {
                    "p": visit.get_purpose_display(),
                    "n": f"：{visit.notes[:80]}" if visit.notes else "",
                },
                detail={"visit": visit.pk, "photos": len(saved), "distance_m": visit.distance_m},
                occurred_at=visit.visited_at,
            )
    except IntegrityError:  # the same draft synced concurrently
        return Visit.objects.get(client_uuid=key), False
    return visit, True


# --- customer coordinates -------------------------------------------------------------------------
@transaction.atomic
def customer_site_set(
    *, customer: Customer, latitude: Any, longitude: Any, actor: Any, source: str = "manual"
) -> CustomerSite:
    if actor is None or not actor.has_perm("fieldwork.set_customer_site"):
        raise NotPermitted()
    if not can_access(customer, actor):
        raise NotPermitted(_("无权访问该客户。"))
    errors: dict[str, str] = {}
    loc = parse_location({"latitude": latitude, "longitude": longitude}, errors)
    if loc is None:
        raise InvalidSubmission(errors=errors or {"location": _("请填写经纬度。")})
    site, created = CustomerSite.objects.update_or_create(
        customer=customer,
        defaults={
            "latitude": loc.latitude,
            "longitude": loc.longitude,
            "source": source,
            "set_by": actor,
        },
    )
    audit_record(
        action="fieldwork.customer_site_set",
        actor=actor,
        obj=site,
        metadata={"customer": customer.pk, "source": source, "created": created},
    )
    record_event(
        customer=customer,
        kind="profile_changed",
        actor=actor,
        obj=site,
        source="fieldwork",
        title=_("登记地址坐标已设置（%(s)s）") % {"s": site.get_source_display()},
    )
    return site
