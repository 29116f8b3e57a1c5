"""Shared helpers of the application services: numbering, the row lock, the actor check (with
its audit after a rollback), the one status-change step, the document checklist."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from credo.accounts.scope import can_access
from credo.core import clock, fsm
from credo.core.audit.refusals import atomic_with_refusals, refuse
from credo.core.audit.services import audit_record
from credo.core.sequence import daily_number
from credo.customers.events import record_event
from credo.origination import documents
from credo.origination.errors import InvalidState, NotAllowed, StaleVersion
from credo.origination.models import Application, Document

logger = logging.getLogger("credo.origination")
S = Application.Status
SUBJECT_TYPE = "origination.application"
FLOW_KEY = "origination.application"
EDITABLE_DOCS: tuple[str, ...] = (S.DRAFT, S.RETURNED)


# --- helpers -------------------------------------------------------------------------------------
def next_number() -> str:
    """A + yyyymmdd + 4-digit sequence from the locked ``application`` counter (seeded from the
    numbers already issued that day). Call inside the transaction that creates the row."""
    return daily_number("application", "A", day=clock.today(), numbered=Application)


def _lock(application: Application, expected_version: int | None = None) -> Application:
    locked = (
        Application.objects.select_for_update(of=("self",))
        .select_related("customer", "product_version__product", "owner", "branch")
        .get(pk=application.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(_("申请已被他人修改，请刷新页面后重试。"))
    return locked


def _check_actor(application: Application, actor: Any, perm: str) -> None:
    """Staff actions: the actor needs the permission and the application in their data scope.
    The refusal is audited (after the rollback inside ``_atomic``, see core.audit.refusals)."""
    if actor is None or not actor.has_perm(perm) or not can_access(application, actor):
        refuse(
            NotAllowed(_("没有权限操作该申请。")),
            action="application.denied",
            actor=actor,
            obj=application,
            metadata={"permission": perm},
        )


# ``transaction.atomic`` for services that check the actor inside their transaction.
_atomic = atomic_with_refusals


def _transition(
    app: Application,
    to: str,
    *,
    actor: Any,
    title: str,
    kind: str = "application",
    detail: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    extra_fields: dict[str, Any] | None = None,
) -> Application:
    try:
        before = fsm.transition(app, to, save=False)
    except fsm.TransitionRefused as exc:
        raise InvalidState(str(exc)) from None
    for name, value in (extra_fields or {}).items():
        setattr(app, name, value)
    app.version += 1
    app.save()
    audit_record(
        action=f"application.{to}",
        actor=actor,
        obj=app,
        changes={"status": [before, to]},
        metadata=metadata or {},
    )
    record_event(
        customer=app.customer,
        kind=kind,
        title=title,
        actor=actor,
        obj=app,
        source="origination",
        detail={"from": before, "to": to, **(detail or {})},
    )
    return app


def application_url(app: Application) -> str:
    return reverse("origination:detail", args=[app.pk])


def checklist_items(app: Application) -> list[str]:
    items = app.product_version.required_documents or []
    return [str(i) for i in items if str(i).strip()]


def checklist(app: Application, uploads: Iterable[Document] | None = None) -> list[dict[str, Any]]:
    """One row per required item with its latest document and state. ``uploads``: all of the
    application's documents (any order) when the caller has read them already."""
    latest: dict[str, Document] = {}
    for uploaded in app.documents.all() if uploads is None else uploads:
        seen = latest.get(uploaded.item)
        if seen is None or uploaded.pk > seen.pk:
            latest[uploaded.item] = uploaded
    rows = []
    for item in checklist_items(app):
        doc = latest.get(item)
        state = "missing" if doc is None else doc.status
        rows.append({"item": item, "doc": doc, "state": state, "rule": documents.rule_for(item)})
    return rows


def outstanding_items(app: Application) -> list[dict[str, str]]:
    """What the customer must still fix: missing and rejected items, with the reason."""
    out = []
    for row in checklist(app):
        if row["state"] == "missing":
            out.append({"item": row["item"], "problem": "missing", "reason": _("未上传")})
        elif row["state"] == Document.Status.REJECTED:
            out.append(
                {"item": row["item"], "problem": "rejected", "reason": row["doc"].reject_reason}
            )
    return out


def completeness(app: Application) -> int:
    rows = checklist(app)
    if not rows:
        return 100
    done = sum(1 for r in rows if r["state"] in (Document.Status.PENDING, Document.Status.ACCEPTED))
    return round(done * 100 / len(rows))


def _return_todo_key(app: Application) -> str:
    return f"origination.returned.{app.pk}"


def _cancel_return_todo(app: Application) -> None:
    from credo.core.todo.services import todo_cancel_by_key

    todo_cancel_by_key(user=app.owner, dedupe_key=_return_todo_key(app))
