"""Running automations: live firings (event consumer, daily and periodic scans), dry runs and
replays (which write nothing), test cases.

Loop protection: every action runs with the request id ``auto:<depth>:<run id>``, so the audit
rows (= events) it causes carry the depth; a firing at depth ``MAX_DEPTH`` is logged as
blocked and does nothing. Idempotency: one run per (version, occurrence key), enforced by a
unique constraint.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.automations import actions as action_types
from credo.automations import conditions, subjects, triggers
from credo.automations.models import AutomationRun, AutomationVersion, ScanState
from credo.automations.triggers import Occurrence
from credo.core import fsm

log = logging.getLogger(__name__)

MAX_DEPTH = 3
SERVICE_USERNAME = "system.automation"
DRY_RUN_LIMIT = 200


def service_user() -> Any:
    """The identity automations act as (no password, no role: it cannot log in; what it may do
    was checked against the publisher's permissions when the version was published)."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    user = user_model.objects.filter(username=SERVICE_USERNAME).first()
    if user is None:
        user = user_model(username=SERVICE_USERNAME, display_name=_("自动化"), is_active=True)
        user.set_unusable_password()
        user.save()
    return user


@dataclass
class Result:
    """One evaluated occurrence (live or dry)."""

    occurrence: Occurrence
    fires: bool
    detail: str
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    status: str = ""
    run_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        occ = self.occurrence
        return {
            "occurrence": occ.key,
            "object_type": occ.object_type,
            "object_id": occ.object_id,
            "object_repr": occ.object_repr,
            "event_type": occ.event.get("type", ""),
            "fires": self.fires,
            "condition": self.detail,
            "actions": self.outcomes,
            "status": self.status,
        }


def _kind_of(obj: Any) -> str:
    if obj is None:
        return ""
    k = subjects.BY_OBJECT_TYPE.get(obj._meta.label_lower)
    return k.code if k else ""


def _run_actions(
    version: AutomationVersion,
    occ: Occurrence,
    obj: Any,
    ctx: dict[str, Any],
    *,
    dry: bool,
    actor: Any = None,
) -> list[dict[str, Any]]:
    from credo.core import fsm

    outcomes: list[dict[str, Any]] = []
    for index, spec in enumerate(version.actions or [], 1):
        at = action_types.ACTION_TYPES.get(str(spec.get("type")))
        row: dict[str, Any] = {
            "index": index,
            "type": spec.get("type"),
            "label": str(at.label) if at else "?",
        }
        if at is None:
            outcomes.append({**row, "ok": False, "message": _("未知动作")})
            continue
        ectx = action_types.ExecContext(
            obj=obj,
            kind=_kind_of(obj),
            cond=ctx,
            occurrence=occ,
            version=version,
            index=index,
            actor=actor,
            dry=dry,
        )
        try:
            with transaction.atomic():  # a failing action leaves nothing behind, the rest run
                message = at.execute(spec, ectx)
            outcomes.append({**row, "ok": True, "message": message})
        except (action_types.ActionRefused, fsm.TransitionRefused) as exc:
            outcomes.append({**row, "ok": False, "message": str(exc)})
        except Exception as exc:  # noqa: BLE001 — one action's failure is logged on the run
            if dry:
                outcomes.append({**row, "ok": False, "message": str(exc)[:300]})
                continue
            log.warning("automation %s action %s failed: %r", version.pk, index, exc)
            outcomes.append({**row, "ok": False, "message": (str(exc) or repr(exc))[:300]})
    return outcomes


def evaluate(version: AutomationVersion, occ: Occurrence, *, dry: bool) -> Result:
    """Dry: condition and what each action would do, nothing written."""
    obj = subjects.load(occ.object_type, occ.object_id) if occ.object_id else None
    ctx = subjects.context(obj, occ.event)
    fires, detail = conditions.evaluate(version.condition or {}, ctx)
    result = Result(occ, fires, detail)
    if fires:
        result.outcomes = _run_actions(version, occ, obj, ctx, dry=True)
    return result


def fire(version: AutomationVersion, occ: Occurrence) -> Result | None:
    """A live firing, logged as one run. ``None`` when this occurrence already ran for this
    version (idempotency)."""
    from credo.core.context import (
        RequestInfo,
        current_request_info,
        reset_request_info,
        set_request_info,
    )

    if AutomationRun.objects.filter(version=version, occurrence=occ.key).exists():
        return None
    obj = subjects.load(occ.object_type, occ.object_id) if occ.object_id else None
    ctx = subjects.context(obj, occ.event)
    base = {
        "automation_id": version.automation_id,
        "version": version,
        "occurrence": occ.key,
        "trigger_type": occ.trigger_type,
        "object_type": occ.object_type,
        "object_id": occ.object_id,
        "object_repr": (occ.object_repr or (str(obj) if obj is not None else ""))[:200],
        "event": occ.event,
        "inputs": ctx,
        "depth": occ.depth,
    }
    if occ.depth >= MAX_DEPTH:
        detail = _("触发深度达到 %(n)s（自动化之间循环触发），未执行。") % {"n": MAX_DEPTH}
        return _save_run(
            base, Result(occ, False, detail, status=AutomationRun.Status.BLOCKED), None
        )
    fires, detail = conditions.evaluate(version.condition or {}, ctx)
    S = AutomationRun.Status
    result = Result(occ, fires, detail, status=S.RUNNING if fires else S.SKIPPED)
    if not fires:
        return _save_run(base, result, False)
    run = _save_run(base, result, True)
    if run is None or run.run_id is None:
        return None
    actor = service_user()
    token = set_request_info(
        RequestInfo(
            user=actor,
            ip=current_request_info().ip,
            request_id=f"auto:{occ.depth + 1}:{run.run_id}",
        )
    )
    try:
        outcomes = _run_actions(version, occ, obj, ctx, dry=False, actor=actor)
    finally:
        reset_request_info(token)
    status = (
        AutomationRun.Status.DONE if all(o["ok"] for o in outcomes) else AutomationRun.Status.FAILED
    )
    fsm.transition_queryset(AutomationRun.objects.filter(pk=run.run_id), status, outcomes=outcomes)
    result.outcomes, result.status, result.run_id = outcomes, status, run.run_id
    return result


def _save_run(base: dict[str, Any], result: Result, cond: bool | None) -> Result | None:
    try:
        with transaction.atomic():
            run = AutomationRun.objects.create(
                **base,
                condition_result=cond,
                condition_detail=result.detail[:500],
                status=result.status or AutomationRun.Status.DONE,
            )
    except IntegrityError:  # the same occurrence fired concurrently
        return None
    result.run_id = run.pk
    return result


# --- live: the event stream --------------------------------------------------------------------
def published(trigger_types: Iterable[str] | None = None) -> list[AutomationVersion]:
    qs = AutomationVersion.objects.filter(status=AutomationVersion.Status.PUBLISHED).select_related(
        "automation"
    )
    versions = list(qs.order_by("automation_id"))
    if trigger_types is not None:
        wanted = set(trigger_types)
        versions = [v for v in versions if (v.trigger or {}).get("type") in wanted]
    return versions


def wanted_actions() -> set[str]:
    """The audit actions the published automations listen to (the consumer's filter)."""
    out: set[str] = set()
    for v in published(("event", "transition")):
        out |= triggers.event_actions(v.trigger or {})
    return out


def _depths(events: list[Any]) -> dict[int, int]:
    from credo.core.audit.models import AuditEntry

    rows = AuditEntry.objects.filter(
        id__in=[e.audit_id for e in events], request_id__startswith="auto:"
    ).values_list("id", "request_id")
    out: dict[int, int] = {}
    for audit_id, request_id in rows:
        try:
            out[audit_id] = int(str(request_id).split(":")[1])
        except (IndexError, ValueError):
            continue
    return out


def handle_events(events: list[Any]) -> None:
    """The event consumer: each published event-driven automation whose trigger matches."""
    versions = published(("event", "transition"))
    if not versions:
        return
    depths = _depths(events)
    for ev in events:
        for version in versions:
            if not triggers.matches_event(
                version.trigger or {}, ev.action, ev.changes, ev.metadata
            ):
                continue
            occ = triggers.occurrence_of_event(ev, depths.get(ev.audit_id, 0))
            fire_safely(version, occ)


def fire_safely(version: AutomationVersion, occ: Occurrence) -> Result | None:
    """One broken automation (or record) must not hold up the stream or the other
    automations: its firing is rolled back to a savepoint and logged."""
    try:
        with transaction.atomic():
            return fire(version, occ)
    except Exception:  # noqa: BLE001
        log.exception("automation version %s failed on %s", version.pk, occ.key)
        return None


# --- live: scans -------------------------------------------------------------------------------
def scan_daily(day: dt.date) -> dict[str, int]:
    """Date-reached and close-of-business triggers for business date ``day`` (after the close)."""
    counts = {"occurrences": 0, "fired": 0}
    for version in published(("date", "eod")):
        trigger = version.trigger or {}
        scan = triggers.scan_date if trigger.get("type") == "date" else triggers.scan_eod
        for occ in scan(trigger, day):
            counts["occurrences"] += 1
            result = fire_safely(version, occ)
            if result is not None and result.fires:
                counts["fired"] += 1
    return counts


def _state(key: str) -> ScanState:
    state, _c = ScanState.objects.get_or_create(key=key)
    return ScanState.objects.select_for_update().get(pk=state.pk)


def alert_head() -> int:
    model = subjects.model_of("monitoring.alert")
    if model is None:
        return 0
    last = model._default_manager.order_by("-id").values_list("id", flat=True).first()
    return int(last or 0)


def start_scans(version: AutomationVersion) -> None:
    """A newly published scanned trigger starts at the head (like an event consumer)."""
    trigger = version.trigger or {}
    if trigger.get("type") == "alert":
        ScanState.objects.update_or_create(
            key=f"alert:v{version.pk}", defaults={"value": str(alert_head())}
        )
    elif trigger.get("type") == "cron":
        from credo.core.scheduling.cron import latest_slot

        slot = latest_slot(str(trigger["cron"]), timezone.now())
        ScanState.objects.update_or_create(
            key=f"cron:v{version.pk}", defaults={"value": slot.isoformat()}
        )


def scan_periodic(now: dt.datetime | None = None) -> dict[str, int]:
    """Alerts raised since the last scan, and schedule slots that have come (every minute)."""
    from credo.core.scheduling.cron import latest_slot

    now = now or timezone.now()
    counts = {"occurrences": 0, "fired": 0}
    for version in published(("alert", "cron")):
        trigger = version.trigger or {}
        with transaction.atomic():
            if trigger.get("type") == "alert":
                state = _state(f"alert:v{version.pk}")
                last = int(state.value or 0)
                occs: list[Occurrence] = []
                for alert_id, occ in triggers.scan_alerts(trigger, last):
                    occs.append(occ)
                    last = max(last, alert_id)
            else:
                state = _state(f"cron:v{version.pk}")
                slot = latest_slot(str(trigger.get("cron")), now)
                if state.value and dt.datetime.fromisoformat(state.value) >= slot:
                    continue
                occs = list(triggers.scan_cron(trigger, slot))
                last = slot.isoformat()  # type: ignore[assignment]
            for occ in occs:
                counts["occurrences"] += 1
                result = fire_safely(version, occ)
                if result is not None and result.fires:
                    counts["fired"] += 1
            state.value = str(last)
            state.save(update_fields=["value", "updated_at"])
    return counts


# --- try before publishing ---------------------------------------------------------------------
class _Rollback(Exception):
    pass


def _nothing_written(fn: Any) -> list[Result]:
    """Belt and braces: dry actions call no service, and the whole try runs in a transaction
    that is rolled back."""
    box: list[Result] = []
    try:
        with transaction.atomic():
            box.extend(fn())
            raise _Rollback
    except _Rollback:
        pass
    return box


def _existing_occurrences(trigger: dict[str, Any], limit: int) -> Iterator[Occurrence]:
    from credo.core import clock

    kind = trigger.get("type")
    today = clock.today()
    if kind == "date":
        yield from _take(triggers.scan_date(trigger, today), limit)
        return
    if kind == "eod":
        yield from _take(triggers.scan_eod(trigger, today), limit)
        return
    if kind == "alert":
        occs = (occ for _id, occ in triggers.scan_alerts(trigger, 0))
        yield from _take(occs, limit)
        return
    code = triggers.subject_kind(trigger)
    k = subjects.KINDS.get(code)
    if k is None:
        if kind == "cron":
            yield Occurrence(key="dry:cron", trigger_type="cron", event={"type": "cron"})
        return
    model = subjects.model_of(k.object_type)
    if model is None:
        return
    etype = trigger.get("event") or (
        f"{code}.{trigger.get('to')}" if kind == "transition" else kind
    )
    for obj in model._default_manager.order_by("-id")[:limit]:
        yield Occurrence(
            key=f"dry:{k.object_type}:{obj.pk}",
            trigger_type=str(kind),
            object_type=k.object_type,
            object_id=str(obj.pk),
            object_repr=str(obj)[:200],
            event={"type": etype, "changes": {}, "metadata": {}},
        )


def _take(it: Iterable[Occurrence], limit: int) -> Iterator[Occurrence]:
    for i, occ in enumerate(it):
        if i >= limit:
            return
        yield occ


def dry_run(version: AutomationVersion, *, limit: int = DRY_RUN_LIMIT) -> list[Result]:
    """Run ``version`` against existing records: which would fire and what each action would
    do. Event filters (changed fields) cannot apply to a record at rest; the condition does."""
    return _nothing_written(
        lambda: [
            evaluate(version, occ, dry=True)
            for occ in _existing_occurrences(version.trigger or {}, limit)
        ]
    )


def replay(version: AutomationVersion, *, days: int, limit: int = 1000) -> list[Result]:
    """Replay ``version`` over the last ``days`` days: the event history for event triggers,
    each business date's scan for date and close-of-business triggers, the alerts raised for
    the alert trigger. Nothing is written."""
    from credo.core import clock
    from credo.core.events.stream import events_between

    trigger = version.trigger or {}
    kind = trigger.get("type")
    since = timezone.now() - dt.timedelta(days=days)

    def occurrences() -> Iterator[Occurrence]:
        if kind in ("event", "transition"):
            actions = triggers.event_actions(trigger)
            for ev in events_between(since=since, actions=actions):
                if triggers.matches_event(trigger, ev.action, ev.changes, ev.metadata):
                    yield triggers.occurrence_of_event(ev)
        elif kind in ("date", "eod"):
            scan = triggers.scan_date if kind == "date" else triggers.scan_eod
            today = clock.today()
            for back in range(days, -1, -1):
                yield from scan(trigger, today - dt.timedelta(days=back))
        elif kind == "alert":
            for _id, occ in triggers.scan_alerts(trigger, 0, since=since):
                yield occ

    return _nothing_written(
        lambda: [evaluate(version, occ, dry=True) for occ in _take(occurrences(), limit)]
    )


def run_test_case(version: AutomationVersion, case: Any) -> tuple[bool, bool, str]:
    """(passed, fired, explanation): the condition over the case's input."""
    ctx = dict(case.input or {})
    ctx.setdefault("record", {})
    ctx.setdefault("event", {})
    fires, detail = conditions.evaluate(version.condition or {}, ctx)
    return fires == case.expected_fire, fires, detail
