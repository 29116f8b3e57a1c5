"""Checklist documents (upload, review) and correction notices (补正通知)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import fsm
from credo.core.audit.services import audit_record
from credo.customers.events import record_event
from credo.origination import documents
from credo.origination.errors import (
    InvalidDocument,
    InvalidState,
)
from credo.origination.models import Application, CorrectionNotice, Document, PortalLink
from credo.origination.services.common import (
    EDITABLE_DOCS,
    _atomic,
    _check_actor,
    _lock,
    checklist_items,
    logger,
    outstanding_items,
)


# --- documents -----------------------------------------------------------------------------------
def _upload(
    app: Application,
    *,
    item: str,
    name: str,
    data: bytes,
    actor: Any,
    via: str,
    link: PortalLink | None = None,
) -> Document:
    if app.status not in EDITABLE_DOCS:
        raise InvalidState(
            _("申请当前状态（%(s)s）不能上传资料。") % {"s": app.get_status_display()}
        )
    if item not in checklist_items(app):
        raise InvalidDocument(_("“%(item)s”不在该产品的资料清单中。") % {"item": item})
    checked = documents.check_upload(item=item, name=name, data=data)
    stored = documents.store(checked)
    # Written before the row; a failed insert removes it (a later rollback leaves an orphan
    # file under a random name that nothing references, which is harmless).
    try:
        doc = Document.objects.create(
            application=app,
            item=item,
            original_name=(name or "")[:200],
            stored_name=stored,
            content_type=checked.content_type,
            size=len(checked.data),
            sha256=checked.sha256,
            via=via,
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
    except Exception:
        documents.remove(stored)
        raise
    audit_record(
        action="document.upload",
        actor=actor,
        obj=doc,
        metadata={
            "application": app.number,
            "item": item,
            "size": doc.size,
            "sha256": doc.sha256,
            "via": via,
            **({"portal_link": link.pk} if link else {}),
        },
    )
    record_event(
        customer=app.customer,
        kind="document",
        actor=actor,
        obj=app,
        source="origination",
        title=_("申请 %(n)s 上传资料：%(item)s") % {"n": app.number, "item": item},
        detail={"document": doc.pk, "via": via},
    )
    _resolve_notices(app)
    return doc


def _refuse_upload(
    app: Application, actor: Any, item: str, name: str, exc: Exception, link: Any
) -> None:
    """Audit a refused upload in its own transaction (the caller's rolls back)."""
    with transaction.atomic():
        audit_record(
            action="document.upload_refused",
            actor=actor,
            obj=app,
            metadata={
                "item": item,
                "name": (name or "")[:200],
                "reason": getattr(exc, "message", str(exc)),
                **({"portal_link": link.pk} if link else {}),
            },
        )


def document_upload(
    *, application: Application, item: str, name: str, data: bytes, actor: Any, via: str = "staff"
) -> Document:
    _check_actor(application, actor, "origination.change_application")
    try:
        with transaction.atomic():
            app = _lock(application)
            return _upload(app, item=item, name=name, data=data, actor=actor, via=via)
    except (InvalidDocument, InvalidState) as exc:
        _refuse_upload(application, actor, item, name, exc, None)
        raise


@_atomic
def document_review(*, document: Document, accept: bool, actor: Any, reason: str = "") -> Document:
    app = _lock(document.application)
    _check_actor(app, actor, "origination.review_documents")
    doc = Document.objects.select_for_update().get(pk=document.pk)
    latest = app.documents.filter(item=doc.item).order_by("-id").first()
    if latest is None or latest.pk != doc.pk:
        raise InvalidState(_("只能审核该资料项最新上传的文件。"))
    reason = (reason or "").strip()
    if not accept and not reason:
        raise InvalidDocument(_("退回资料时必须填写原因。"))
    target = Document.Status.ACCEPTED if accept else Document.Status.REJECTED
    try:
        before = fsm.transition(doc, target, save=False, allow_same=True)
    except fsm.TransitionRefused as exc:
        raise InvalidState(str(exc)) from None
    doc.reject_reason = "" if accept else reason[:200]
    doc.reviewed_by, doc.reviewed_at = actor, timezone.now()
    doc.save()
    audit_record(
        action="document.accept" if accept else "document.reject",
        actor=actor,
        obj=doc,
        changes={"status": [before, doc.status]},
        metadata={"application": app.number, "item": doc.item, "reason": doc.reject_reason},
    )
    record_event(
        customer=app.customer,
        kind="document",
        actor=actor,
        obj=app,
        source="origination",
        title=(_("资料“%(item)s”审核通过") if accept else _("资料“%(item)s”被退回：%(r)s"))
        % {"item": doc.item, "r": doc.reject_reason},
        detail={"document": doc.pk},
    )
    if not accept:
        _issue_notice(app, actor=actor)
    else:
        _resolve_notices(app)
    return doc


# --- correction notices --------------------------------------------------------------------------
def notify_correction(notice: CorrectionNotice) -> None:
    """Tell the borrower (their preferred channel: SMS/e-mail) exactly what to fix; the portal
    and the application page show the same notice. Once per notice."""
    from credo.notify.services import notify

    app = notice.application
    names = "；".join(f"{i.get('item', '')}（{i.get('reason', '')}）" for i in notice.items)
    notify(
        template="origination.correction_notice",
        context={"number": app.number, "items": names, "note": notice.note},
        customer=app.customer,
        dedupe_key=f"correction-notice:{notice.pk}",
        category="service",
    )
    logger.info("correction notice %s for application %s", notice.pk, notice.application_id)


def _issue_notice(app: Application, *, actor: Any, note: str = "") -> CorrectionNotice | None:
    items = outstanding_items(app)
    if not items:
        return None
    open_notice = app.notices.filter(resolved_at__isnull=True).order_by("-id").first()
    if open_notice is not None and open_notice.items == items and not note:
        return open_notice
    if open_notice is not None:
        # Superseded: one open notice at a time, always the current list.
        open_notice.resolved_at = timezone.now()
        open_notice.save(update_fields=["resolved_at"])
    notice = CorrectionNotice.objects.create(
        application=app, items=items, note=(note or "")[:300], created_by=actor
    )
    audit_record(
        action="application.correction_notice",
        actor=actor,
        obj=app,
        metadata={"notice": notice.pk, "items": [i["item"] for i in items]},
    )
    record_event(
        customer=app.customer,
        kind="document",
        actor=actor,
        obj=app,
        source="origination",
        title=_("发出补正通知：%(items)s") % {"items": "、".join(i["item"] for i in items)},
        detail={"notice": notice.pk, "items": items},
    )
    transaction.on_commit(lambda: notify_correction(notice))
    return notice


def _resolve_notices(app: Application) -> None:
    if outstanding_items(app):
        return
    app.notices.filter(resolved_at__isnull=True).update(resolved_at=timezone.now())


@_atomic
def notice_issue(*, application: Application, actor: Any, note: str = "") -> CorrectionNotice:
    app = _lock(application)
    _check_actor(app, actor, "origination.review_documents")
    notice = _issue_notice(app, actor=actor, note=note)
    if notice is None:
        raise InvalidState(_("资料已齐全，无需补正。"))
    return notice
