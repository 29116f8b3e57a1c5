"""Every write to applications: keyword-only, one transaction, row-locked, audited, on the
customer timeline. Status changes happen only here.

draft → submitted → admission_rejected | in_approval ⇄ returned → approved → contract_sent →
signed → loan_created; in_approval → rejected; draft/submitted/in_approval/returned → withdrawn.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import functools
import hashlib
import logging
import secrets
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.scope import can_access
from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.lender import contract_terms as lender_contract_terms
from credo.core.money import Money
from credo.customers.events import record_event
from credo.customers.models import Customer
from credo.lending.models import ProductVersion
from credo.origination import admission, documents
from credo.origination.errors import (
    InvalidApplication,
    InvalidDocument,
    InvalidState,
    NotAllowed,
    OriginationError,
    PortalLinkInvalid,
    RateLimited,
    StaleVersion,
)
from credo.origination.models import Application, CorrectionNotice, Document, PortalLink

logger = logging.getLogger("credo.origination")
S = Application.Status
SUBJECT_TYPE = "origination.application"
FLOW_KEY = "origination.application"
PORTAL_DAYS = 7
PORTAL_UPLOADS_PER_WINDOW = 20
PORTAL_WINDOW = dt.timedelta(minutes=10)
EDITABLE_DOCS = (S.DRAFT, S.RETURNED)
WITHDRAWABLE = (S.DRAFT, S.SUBMITTED, S.IN_APPROVAL, S.RETURNED)


# --- helpers -------------------------------------------------------------------------------------
def _next_number() -> str:
    prefix = f"A{clock.today():%Y%m%d}"
    last = Application.objects.filter(number__startswith=prefix).aggregate(m=Max("number"))["m"]
    seq = int(last[len(prefix) :]) + 1 if last else 1
    return f"{prefix}{seq:04d}"


def _lock(application: Application, expected_version: int | None = None) -> Application:
    locked = (
        Application.objects.select_for_update(of=("self",))
        .select_related("customer", "product_version__product", "owner", "branch")
        .get(pk=application.pk)
    )
    if expected_version is not None and locked.version != expected_version:
        raise StaleVersion(_("申请已被他人修改，请刷新页面后重试。"))
    return locked


T = TypeVar("T")
_DEFER_DENIAL_AUDIT: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "origination_defer_denial_audit", default=False
)


def _check_actor(application: Application, actor: Any, perm: str) -> None:
    """Staff actions: the actor needs the permission and the application in their data scope.
    The refusal is audited; inside ``_atomic`` only after the rollback (else it would vanish)."""
    if actor is None or not actor.has_perm(perm) or not can_access(application, actor):
        entry = {
            "action": "application.denied",
            "actor": actor,
            "obj": application,
            "metadata": {"permission": perm},
        }
        err = NotAllowed(_("没有权限操作该申请。"))
        if _DEFER_DENIAL_AUDIT.get():
            err.audit = entry
        else:
            audit_record(**entry)
        raise err


def _atomic(func: Callable[..., T]) -> Callable[..., T]:
    """``transaction.atomic`` for services that check the actor inside their transaction: a
    permission refusal rolls the transaction back and is then audited outside it."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        token = _DEFER_DENIAL_AUDIT.set(True)
        try:
            with transaction.atomic():
                return func(*args, **kwargs)
        except NotAllowed as exc:
            entry = getattr(exc, "audit", None)
            if entry is not None:
                exc.audit = None
                audit_record(**entry)
            raise
        finally:
            _DEFER_DENIAL_AUDIT.reset(token)

    return wrapper


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
    before = app.status
    for name, value in (extra_fields or {}).items():
        setattr(app, name, value)
    app.status = to
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


def checklist(app: Application) -> list[dict[str, Any]]:
    """One row per required item with its latest document and state."""
    latest: dict[str, Document] = {}
    for uploaded in app.documents.order_by("-id"):
        latest.setdefault(uploaded.item, uploaded)
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


# --- create --------------------------------------------------------------------------------------
def _validate_terms(
    pv: ProductVersion, amount: Any, months: Any, rate: Any
) -> tuple[Money, int, Decimal]:
    """Terms against the product (the lending core's one check) plus: the product is on sale;
    no rate given → the product's minimum rate."""
    from credo.lending.errors import LendingError
    from credo.lending.product_services import check_terms

    if pv.status != ProductVersion.Status.PUBLISHED or not pv.product.is_active:
        raise InvalidApplication(_("只能选择在售产品的已发布版本。"))
    try:
        return check_terms(
            pv,
            amount=amount,
            months=months,
            rate=rate if rate not in (None, "") else pv.min_rate,
            amount_label=_("申请金额"),
        )
    except LendingError as exc:
        raise InvalidApplication(exc.message) from None


def _clean_guarantees(rows: Any) -> list[dict[str, Any]]:
    out = []
    for row in rows or []:
        if not isinstance(row, dict):
            raise InvalidApplication(_("担保/抵押信息格式不正确。"))
        kind = str(row.get("type") or "").strip()
        if kind not in ("guarantor", "collateral"):
            raise InvalidApplication(_("担保类型只能是保证人或抵押物。"))
        name = str(row.get("name") or row.get("description") or "").strip()[:120]
        if not name:
            raise InvalidApplication(_("请填写保证人姓名或抵押物描述。"))
        value = row.get("value")
        fen = None
        if value not in (None, ""):
            try:
                fen = Money(str(value)).fen if not isinstance(value, int) else int(value)
            except (ArithmeticError, ValueError, TypeError):
                raise InvalidApplication(_("担保价值格式不正确。")) from None
            if fen < 0:
                raise InvalidApplication(_("担保价值不能为负数。"))
        out.append({"type": kind, "name": name, "value": fen})
    return out


@transaction.atomic
def application_create(
    *,
    customer: Customer,
    product_version: ProductVersion,
    amount: Money,
    months: int,
    purpose: str,
    actor: Any,
    annual_rate: Any = None,
    guarantees: list[dict[str, Any]] | None = None,
    custom: dict[str, Any] | None = None,
    lead_id: int | None = None,
) -> Application:
    if actor is None or not actor.has_perm("origination.add_application"):
        raise NotAllowed(_("没有新建申请的权限。"))
    if not can_access(customer, actor):
        raise NotAllowed(_("没有权限为该客户新建申请。"))
    return _create(
        customer=customer,
        product_version=product_version,
        amount=amount,
        months=months,
        purpose=purpose,
        actor=actor,
        annual_rate=annual_rate,
        guarantees=guarantees,
        custom=custom,
        lead_id=lead_id,
    )


def _create(
    *,
    customer: Customer,
    product_version: ProductVersion,
    amount: Money,
    months: int,
    purpose: str,
    actor: Any,
    annual_rate: Any = None,
    guarantees: list[dict[str, Any]] | None = None,
    custom: dict[str, Any] | None = None,
    lead_id: int | None = None,
    invite: PortalLink | None = None,
) -> Application:
    """The one creation path (staff, API and the customer's invitation link): the same term
    check and audit. ``actor`` is None for the portal (the customer, no login)."""
    if customer.status == Customer.Status.CLOSED:
        raise InvalidApplication(_("客户已注销，不能申请。"))
    amount, months, rate = _validate_terms(product_version, amount, months, annual_rate)
    purpose = (purpose or "").strip()
    if not purpose:
        raise InvalidApplication(_("请填写贷款用途。"))
    app = Application.objects.create(  # type: ignore[misc]
        number=_next_number(),
        customer=customer,
        lead_id=lead_id,
        product_version=product_version,
        amount=amount,
        months=months,
        annual_rate=rate,
        method=product_version.method,
        purpose=purpose[:200],
        guarantees=_clean_guarantees(guarantees),
        custom=dict(custom or {}),
        owner=customer.owner,
        team=customer.team,
        branch=customer.branch,
        created_by=actor,
    )
    audit_record(
        action="application.create",
        actor=actor,
        obj=app,
        changes={
            "amount": [None, str(amount)],
            "months": [None, months],
            "rate": [None, str(rate)],
        },
        metadata={"lead_id": lead_id}
        if invite is None
        else {"lead_id": lead_id, "via": "portal", "portal_invite": invite.pk},
    )
    record_event(
        customer=customer,
        kind="application",
        actor=actor,
        obj=app,
        source="origination",
        title=(
            _("新建贷款申请 %(n)s：%(amt)s 元，%(m)s 个月")
            if invite is None
            else _("客户通过在线申请链接发起贷款申请 %(n)s：%(amt)s 元，%(m)s 个月")
        )
        % {"n": app.number, "amt": amount.format(symbol=False), "m": months},
        detail={"via": "portal", "portal_invite": invite.pk} if invite is not None else None,
    )
    return app


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
    before = doc.status
    doc.status = Document.Status.ACCEPTED if accept else Document.Status.REJECTED
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


# --- portal links --------------------------------------------------------------------------------
def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@_atomic
def portal_link_create(
    *, application: Application, actor: Any, days: int = PORTAL_DAYS
) -> tuple[PortalLink, str]:
    """A new link; the plain token is returned once and never stored."""
    app = _lock(application)
    _check_actor(app, actor, "origination.manage_portal_links")
    if app.status not in EDITABLE_DOCS:
        raise InvalidState(_("申请当前状态不能生成客户上传链接。"))
    if not 1 <= int(days) <= 30:
        raise InvalidApplication(_("有效期应为 1–30 天。"))
    token = secrets.token_urlsafe(32)
    link = PortalLink.objects.create(
        application=app,
        token_hash=_hash(token),
        expires_at=timezone.now() + dt.timedelta(days=int(days)),
        created_by=actor,
    )
    audit_record(
        action="portal_link.create",
        actor=actor,
        obj=app,
        metadata={"portal_link": link.pk, "expires_at": link.expires_at.isoformat()},
    )
    return link, token


def _app_of(link: PortalLink) -> Application:
    """The application of an upload link (a check constraint guarantees there is one)."""
    assert link.application is not None, "upload link without an application"
    return link.application


@_atomic
def portal_link_revoke(*, link: PortalLink, actor: Any) -> PortalLink:
    locked = PortalLink.objects.select_for_update().get(pk=link.pk)
    _check_actor(_app_of(locked), actor, "origination.manage_portal_links")
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        audit_record(
            action="portal_link.revoke",
            actor=actor,
            obj=locked.application,
            metadata={"portal_link": locked.pk},
        )
    return locked


def portal_resolve(token: str) -> PortalLink:
    """The live link for ``token``; PortalLinkInvalid (404 unknown, 410 expired/revoked)."""
    link = (
        PortalLink.objects.select_related("application__customer", "application__product_version")
        .filter(token_hash=_hash(token or ""), purpose=PortalLink.Purpose.UPLOAD)
        .first()
    )
    return _live(
        link,
        used=_("该链接已使用：申请已提交审核，无需再次操作。如需补充资料，请联系您的客户经理。"),
    )


def _live(link: PortalLink | None, *, used: str) -> PortalLink:
    """Unknown → 404; used (with the purpose's own wording), revoked or expired → 410."""
    if link is None:
        err = PortalLinkInvalid(_("链接无效。请联系您的客户经理获取新的链接。"))
        err.status = 404
        raise err
    if link.used_at is not None:
        raise PortalLinkInvalid(used)
    if link.revoked_at is not None:
        raise PortalLinkInvalid(_("该链接已被撤销。请联系您的客户经理获取新的链接。"))
    if link.expires_at <= timezone.now():
        raise PortalLinkInvalid(_("该链接已过期。请联系您的客户经理获取新的链接。"))
    return link


def portal_upload(*, token: str, item: str, name: str, data: bytes) -> Document:
    link = portal_resolve(token)
    try:
        with transaction.atomic():
            locked = PortalLink.objects.select_for_update().get(pk=link.pk)
            now = timezone.now()
            if locked.window_start is None or now - locked.window_start > PORTAL_WINDOW:
                locked.window_start, locked.window_uploads = now, 0
            if locked.window_uploads >= PORTAL_UPLOADS_PER_WINDOW:
                raise RateLimited(_("上传过于频繁，请 10 分钟后再试。"))
            locked.window_uploads += 1
            locked.last_used_at = now
            locked.save(update_fields=["window_start", "window_uploads", "last_used_at"])
            app = _lock(_app_of(link))
            return _upload(
                app, item=item, name=name, data=data, actor=None, via="portal", link=locked
            )
    except (InvalidDocument, InvalidState, RateLimited) as exc:
        _refuse_upload(_app_of(link), None, item, name, exc, link)
        raise


def portal_submit(*, token: str) -> Application:
    """The customer says the documents are complete: submit a draft for review."""
    link = portal_resolve(token)
    return _submit(_app_of(link), actor=None, link=link)


# --- portal invitations: the customer starts an application -------------------------------------
PORTAL_INVITE_ATTEMPTS_PER_WINDOW = 10
INVITE_NOTIFY_TEMPLATE = "origination.portal_application"


def _check_customer_actor(customer: Customer, actor: Any, perm: str) -> None:
    """Like ``_check_actor`` for a customer; the refusal is audited in its own transaction."""
    if actor is None or not actor.has_perm(perm) or not can_access(customer, actor):
        with transaction.atomic():
            audit_record(
                action="portal_invite.denied",
                actor=actor,
                obj=customer,
                metadata={"permission": perm},
            )
        raise NotAllowed(_("没有权限为该客户生成在线申请链接。"))


def portal_invite_create(
    *, customer: Customer, actor: Any, days: int = PORTAL_DAYS
) -> tuple[PortalLink, str]:
    """An invitation link bound to a customer (no application yet); the plain token is returned
    once and never stored."""
    _check_customer_actor(customer, actor, "origination.manage_portal_links")
    if customer.status == Customer.Status.CLOSED:
        raise InvalidApplication(_("客户已注销，不能申请。"))
    try:
        days = int(days)
    except (TypeError, ValueError):
        days = 0
    if not 1 <= days <= 30:
        raise InvalidApplication(_("有效期应为 1–30 天。"))
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        link = PortalLink.objects.create(
            purpose=PortalLink.Purpose.INVITE,
            customer=customer,
            token_hash=_hash(token),
            expires_at=timezone.now() + dt.timedelta(days=days),
            created_by=actor,
        )
        audit_record(
            action="portal_invite.create",
            actor=actor,
            obj=customer,
            metadata={"portal_link": link.pk, "expires_at": link.expires_at.isoformat()},
        )
    return link, token


def portal_invite_revoke(*, link: PortalLink, actor: Any) -> PortalLink:
    current = PortalLink.objects.select_related("customer").get(
        pk=link.pk, purpose=PortalLink.Purpose.INVITE
    )
    assert current.customer is not None
    _check_customer_actor(current.customer, actor, "origination.manage_portal_links")
    with transaction.atomic():
        locked = PortalLink.objects.select_for_update().get(pk=link.pk)
        if locked.revoked_at is None and locked.used_at is None:
            locked.revoked_at = timezone.now()
            locked.save(update_fields=["revoked_at"])
            audit_record(
                action="portal_invite.revoke",
                actor=actor,
                obj=current.customer,
                metadata={"portal_link": locked.pk},
            )
    return locked


def _invite_live(link: PortalLink | None) -> PortalLink:
    link = _live(
        link,
        used=_("该链接已使用：您已通过它提交了贷款申请。如需上传资料，请联系您的客户经理。"),
    )
    if link.customer is None or link.customer.status == Customer.Status.CLOSED:
        raise PortalLinkInvalid(_("该链接已失效。请联系您的客户经理。"))
    return link


def portal_invite_resolve(token: str) -> PortalLink:
    """The live invitation for ``token``; PortalLinkInvalid (404 unknown, 410 used/expired/
    revoked) otherwise. Changes nothing."""
    return _invite_live(
        PortalLink.objects.select_related("customer", "customer__owner")
        .filter(token_hash=_hash(token or ""), purpose=PortalLink.Purpose.INVITE)
        .first()
    )


def _throttle_invite(link: PortalLink) -> None:
    """Count the attempt in its own transaction, so a refused attempt still counts."""
    with transaction.atomic():
        locked = PortalLink.objects.select_for_update().get(pk=link.pk)
        now = timezone.now()
        if locked.window_start is None or now - locked.window_start > PORTAL_WINDOW:
            locked.window_start, locked.window_uploads = now, 0
        if locked.window_uploads >= PORTAL_INVITE_ATTEMPTS_PER_WINDOW:
            raise RateLimited(_("提交过于频繁，请 10 分钟后再试。"))
        locked.window_uploads += 1
        locked.last_used_at = now
        locked.save(update_fields=["window_start", "window_uploads", "last_used_at"])


def _notify_invite_owner(app: Application, invite_pk: int) -> None:
    """In-app notice to the account manager. Runs after the commit; a failing notification must
    not turn the customer's successful application into an error page."""
    try:
        from credo.notify.services import notify

        with transaction.atomic():
            notify(
                template=INVITE_NOTIFY_TEMPLATE,
                context={
                    "number": app.number,
                    "customer": app.customer.name,
                    "amount": app.amount.format(symbol=False),
                    "months": app.months,
                },
                user=app.owner,
                channel="inapp",
                url=application_url(app),
                dedupe_key=f"portal-invite:{invite_pk}",
            )
    except Exception:  # noqa: BLE001 - see docstring
        logger.warning("invite notification for application %s failed", app.pk, exc_info=True)


def portal_invite_accept(
    *,
    token: str,
    product_version: ProductVersion,
    amount: Any,
    months: Any,
    purpose: str,
    guarantees: list[dict[str, Any]] | None = None,
) -> tuple[Application, PortalLink, str]:
    """The customer fills the invitation form: a draft application owned by the customer's
    account manager (``created_by`` None, via the portal), the invitation used up, and a new
    ordinary upload link for the application (its plain token returned once) so the customer
    continues with the usual upload/submit page. Refusals change nothing but the attempt count
    and are audited."""
    link = portal_invite_resolve(token)
    try:
        _throttle_invite(link)
        with transaction.atomic():
            locked = _invite_live(
                PortalLink.objects.select_for_update(of=("self",))
                .select_related("customer", "customer__owner")
                .get(pk=link.pk)
            )
            assert locked.customer is not None
            app = _create(
                customer=locked.customer,
                product_version=product_version,
                amount=amount,
                months=months,
                purpose=purpose,
                actor=None,
                guarantees=guarantees,
                invite=locked,
            )
            now = timezone.now()
            locked.used_at = locked.last_used_at = now
            locked.save(update_fields=["used_at", "last_used_at"])
            upload_token = secrets.token_urlsafe(32)
            upload = PortalLink.objects.create(
                purpose=PortalLink.Purpose.UPLOAD,
                application=app,
                token_hash=_hash(upload_token),
                expires_at=now + dt.timedelta(days=PORTAL_DAYS),
                created_by=locked.created_by,
            )
            audit_record(
                action="portal_link.create",
                actor=None,
                obj=app,
                metadata={
                    "portal_link": upload.pk,
                    "portal_invite": locked.pk,
                    "expires_at": upload.expires_at.isoformat(),
                },
            )
            invite_pk = locked.pk
            transaction.on_commit(lambda: _notify_invite_owner(app, invite_pk))
    except PortalLinkInvalid:
        raise
    except OriginationError as exc:
        with transaction.atomic():
            audit_record(
                action="portal_invite.refused",
                actor=None,
                obj=link.customer,
                metadata={"portal_link": link.pk, "code": exc.code, "reason": exc.message},
            )
        raise
    return app, upload, upload_token


# --- submit / admission / approval ---------------------------------------------------------------
def application_submit(
    *, application: Application, actor: Any, expected_version: int | None = None
) -> Application:
    _check_actor(application, actor, "origination.submit_application")
    return _submit(application, actor=actor, expected_version=expected_version)


def _risk(customer: Customer) -> tuple[int | None, str]:
    try:
        from credo.origination.credit_report import risk_grade
    except ImportError:
        return None, ""
    try:
        score, grade = risk_grade(customer)
    except Exception:  # the report must never block a submission; grade then routes as ""
        logger.exception("risk_grade failed for customer %s", customer.pk)
        return None, ""
    return (int(score) if score is not None else None), str(grade or "")


def _scorecard(app: Application, admission_input: dict[str, Any]) -> Any:
    """The published scorecard's score of the application (stored with the version), or None
    when no scorecard is published. Scoring never blocks a submission."""
    try:
        from credo.scorecard.services import score_application
    except ImportError:
        return None
    try:
        with transaction.atomic():
            return score_application(app, admission_input=dict(admission_input))
    except Exception:
        logger.exception("scorecard scoring failed for application %s", app.pk)
        return None


def _approvals() -> Any:
    try:
        from credo.approvals import services as approval_services
    except ImportError:
        return None
    return approval_services if hasattr(approval_services, "approval_start") else None


@transaction.atomic
def _submit(
    application: Application,
    *,
    actor: Any,
    expected_version: int | None = None,
    link: PortalLink | None = None,
) -> Application:
    app = _lock(application, expected_version)
    if app.status != S.DRAFT:
        raise InvalidState(_("只有草稿状态的申请可以提交。"))
    missing = outstanding_items(app)
    if missing:
        raise InvalidState(
            _("资料不完整，不能提交：%(items)s。")
            % {"items": "、".join(f"{m['item']}（{m['reason']}）" for m in missing)}
        )
    meta = {"portal_link": link.pk} if link else {}
    # Every open link of the application is used up by the submission (no re-use).
    app.portal_links.filter(used_at__isnull=True, revoked_at__isnull=True).update(
        used_at=timezone.now()
    )
    _transition(
        app,
        S.SUBMITTED,
        actor=actor,
        title=_("提交贷款申请 %(n)s") % {"n": app.number},
        metadata=meta,
        extra_fields={"submitted_at": timezone.now()},
    )
    from credo.rules.services import evaluate

    [data] = admission.build_inputs([app])
    scored = _scorecard(app, data)
    data["score"], data["score_grade"] = (scored.score, scored.grade) if scored else (None, "")
    decision = evaluate(admission.KEY, data, subject=app)
    reasons = admission.reasons_of(decision.result)
    passed = admission.passed_of(decision.result)
    app.admission_evaluation = decision.evaluation
    app.admission_passed = passed
    app.admission_reasons = reasons
    if not passed:
        return _transition(
            app,
            S.ADMISSION_REJECTED,
            actor=actor,
            kind="decision",
            title=_("申请 %(n)s 准入未通过：%(r)s")
            % {"n": app.number, "r": "；".join(r["reason"] for r in reasons)},
            detail={"reasons": reasons, "model": decision.version_label},
            metadata={**meta, "model": decision.version_label, "reasons": reasons},
            extra_fields={"decided_at": timezone.now()},
        )
    # Both grades are kept; the published scorecard's grade routes the approval, the credit
    # report's rules grade only when no scorecard is published.
    app.rules_score, app.rules_grade = _risk(app.customer)
    if scored is not None:
        score, grade, source = scored.score, scored.grade, Application.GradeSource.SCORECARD
    else:
        score, grade, source = app.rules_score, app.rules_grade, Application.GradeSource.RULES
    app.risk_score, app.risk_grade, app.risk_grade_source = score, grade, source
    routing = {"risk_grade": grade, "risk_grade_source": source, "rules_grade": app.rules_grade}
    _transition(
        app,
        S.IN_APPROVAL,
        actor=actor,
        kind="decision",
        title=_("申请 %(n)s 准入通过，进入审批") % {"n": app.number},
        detail={"model": decision.version_label, **routing},
        metadata={**meta, "model": decision.version_label, **routing},
    )
    approvals = _approvals()
    if approvals is None:
        logger.warning("approvals app not available; application %s waits in approval", app.pk)
        return app
    from credo.approvals.errors import ApprovalError

    try:
        _start_approval(approvals, app, grade=grade, actor=actor)
    except ApprovalError as exc:
        # e.g. no approver configured for the route: refuse the submission, nothing changes.
        raise InvalidState(
            _("无法发起审批：%(e)s") % {"e": getattr(exc, "message", str(exc))}
        ) from None
    # An auto-approval runs the outcome listener inside approval_start: reload.
    app.refresh_from_db()
    return app


def _start_approval(approvals: Any, app: Application, *, grade: str, actor: Any) -> None:
    approvals.approval_start(
        subject=app,
        flow_key=FLOW_KEY,
        context={
            "amount": app.amount.fen,
            "months": app.months,
            "product": app.product_version.product.code,
            "risk_grade": grade,
            "branch": app.branch.code if app.branch else "",
            "applicant_id": app.owner_id,
        },
        actor=actor if actor is not None else app.owner,
        title=_("贷款申请 %(n)s：%(c)s %(amt)s 元")
        % {"n": app.number, "c": app.customer.name, "amt": app.amount.format(symbol=False)},
        url=application_url(app),
    )


@_atomic
def application_withdraw(*, application: Application, actor: Any, reason: str = "") -> Application:
    app = _lock(application)
    _check_actor(app, actor, "origination.change_application")
    if app.status not in WITHDRAWABLE:
        raise InvalidState(_("申请当前状态（%(s)s）不能撤回。") % {"s": app.get_status_display()})
    was_in_approval = app.status in (S.IN_APPROVAL, S.RETURNED)
    _transition(
        app,
        S.WITHDRAWN,
        actor=actor,
        title=_("撤回贷款申请 %(n)s") % {"n": app.number},
        detail={"reason": reason},
        metadata={"reason": reason},
        extra_fields={"decided_at": timezone.now(), "decision_note": (reason or "")[:300]},
    )
    if was_in_approval:
        approvals = _approvals()
        cancel = getattr(approvals, "approval_cancel", None) if approvals else None
        instance = _instance(app)
        if cancel is not None and instance is not None:
            cancel(instance=instance, actor=actor, reason=reason or _("申请已撤回"))
    app.portal_links.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    _cancel_return_todo(app)
    return app


def _instance(app: Application) -> Any:
    try:
        from credo.approvals.selectors import instance_for
    except ImportError:
        return None
    return instance_for(app)


@_atomic
def application_answer(*, application: Application, actor: Any, answer: str) -> Application:
    """The owner answers an approver's question; the flow continues where it was returned."""
    app = _lock(application)
    _check_actor(app, actor, "origination.change_application")
    if app.status != S.RETURNED:
        raise InvalidState(_("只有被退回的申请需要补充说明。"))
    answer = (answer or "").strip()
    if not answer:
        raise InvalidApplication(_("请填写补充说明。"))
    _transition(
        app,
        S.IN_APPROVAL,
        actor=actor,
        title=_("申请 %(n)s 已补充说明，重新进入审批") % {"n": app.number},
        detail={"answer": answer[:500]},
        extra_fields={"return_answer": answer},
    )
    _cancel_return_todo(app)
    approvals = _approvals()
    instance = _instance(app)
    if approvals is not None and instance is not None:
        approvals.approval_resume(instance=instance, actor=actor, answer=answer)
        app.refresh_from_db()
    return app


def _return_todo_key(app: Application) -> str:
    return f"origination.returned.{app.pk}"


def _cancel_return_todo(app: Application) -> None:
    from credo.core.todo.services import todo_cancel_by_key

    todo_cancel_by_key(user=app.owner, dedupe_key=_return_todo_key(app))


# --- approval outcome, contract, signature, loan -------------------------------------------------
def _load_subject(instance: Any) -> Application | None:
    if getattr(instance, "subject_type", "") != SUBJECT_TYPE:
        return None
    try:
        return Application.objects.get(pk=int(instance.subject_id))
    except (Application.DoesNotExist, TypeError, ValueError):
        return None


def _question_of(instance: Any) -> str:
    for attr in ("return_question", "question", "comment"):
        value = getattr(instance, attr, "")
        if value:
            return str(value)
    steps = getattr(instance, "actions", None)
    try:
        last = steps.order_by("-id").first() if steps is not None else None
    except Exception:
        last = None
    return str(getattr(last, "comment", "") or "")


def _outcome_actor(instance: Any) -> Any:
    """Who made the deciding action (None for an automatic decision)."""
    actions = getattr(instance, "actions", None)
    try:
        last = (
            actions.filter(actor__isnull=False).select_related("actor").order_by("-id").first()
            if actions is not None
            else None
        )
    except Exception:
        return None
    return getattr(last, "actor", None)


def _last_answer(instance: Any) -> str:
    actions = getattr(instance, "actions", None)
    try:
        last = (
            actions.filter(kind="resume").order_by("-id").first() if actions is not None else None
        )
    except Exception:
        last = None
    return str(getattr(last, "comment", "") or "")


@transaction.atomic
def on_approval_outcome(instance: Any, outcome: str) -> None:
    """Listener registered with approvals for flow ``origination.application``."""
    app0 = _load_subject(instance)
    if app0 is None:
        return
    app = _lock(app0)
    actor = _outcome_actor(instance)
    if outcome == "approved":
        # RETURNED too: the applicant may have answered on the approvals page directly.
        if app.status not in (S.IN_APPROVAL, S.SUBMITTED, S.RETURNED):
            return
        amount = getattr(instance, "decided_amount", None)
        months = getattr(instance, "decided_months", None)
        extra: dict[str, Any] = {"decided_at": timezone.now()}
        if amount:
            extra["approved_amount"] = Money.from_fen(int(amount))
        if months:
            extra["approved_months"] = int(months)
        _transition(
            app,
            S.APPROVED,
            actor=actor,
            kind="decision",
            title=_("申请 %(n)s 审批通过：%(amt)s 元，%(m)s 个月")
            % {
                "n": app.number,
                "amt": Money.from_fen(amount or app.amount.fen).format(symbol=False),
                "m": months or app.months,
            },
            extra_fields=extra,
        )
        _send_contract(app, actor=actor)
    elif outcome == "rejected":
        if app.status not in (S.IN_APPROVAL, S.SUBMITTED, S.RETURNED):
            return
        _transition(
            app,
            S.REJECTED,
            actor=actor,
            kind="decision",
            title=_("申请 %(n)s 审批拒绝") % {"n": app.number},
            extra_fields={"decided_at": timezone.now()},
        )
        app.portal_links.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
    elif outcome == "resumed":
        if app.status != S.RETURNED:
            return
        answer = _last_answer(instance)
        _transition(
            app,
            S.IN_APPROVAL,
            actor=actor,
            title=_("申请 %(n)s 已补充说明，重新进入审批") % {"n": app.number},
            detail={"answer": answer[:500]},
            extra_fields={"return_answer": answer},
        )
        _cancel_return_todo(app)
    elif outcome == "returned":
        if app.status != S.IN_APPROVAL:
            return
        question = _question_of(instance)
        _transition(
            app,
            S.RETURNED,
            actor=actor,
            title=_("申请 %(n)s 被退回补充：%(q)s") % {"n": app.number, "q": question},
            detail={"question": question},
            extra_fields={"return_question": question, "return_answer": ""},
        )
        from credo.core.todo.services import todo_create

        todo_create(
            user=app.owner,
            title=_("申请 %(n)s 被退回，请补充说明") % {"n": app.number},
            description=question,
            url=application_url(app),
            source="origination",
            dedupe_key=_return_todo_key(app),
            actor=actor,
        )


def contract_terms(app: Application, *, start: dt.date | None = None) -> dict[str, Any]:
    from credo.lending.forms import METHOD_CHOICES
    from credo.lending.schedule import generate

    principal, months = app.final_amount, app.final_months
    schedule = generate(
        principal=principal,
        annual_rate=app.annual_rate,
        months=months,
        method=app.method,
        start=start or clock.today(),
        repayment_day=app.product_version.repayment_day,
    )
    return {
        "borrower": app.customer.name,
        **lender_contract_terms(),
        "amount_fen": principal,
        "annual_rate": f"{app.annual_rate:.4f}",
        "months": months,
        "method": app.method,
        "method_label": str(dict(METHOD_CHOICES).get(app.method, app.method)),
        "product": app.product_version.product.name,
        "purpose": app.purpose,
        "start_date": None,
        "schedule": [
            {
                "period": i.period,
                "due_date": i.due_date.isoformat(),
                "payment": i.principal + i.interest,
                "principal": i.principal,
                "interest": i.interest,
            }
            for i in schedule.installments
        ],
    }


def _send_contract(app: Application, *, actor: Any) -> None:
    try:
        from credo.contracts.services import contract_generate, contract_send
    except ImportError:
        logger.warning("contracts app not available; application %s stays approved", app.pk)
        return
    contract = contract_generate(
        subject=app,
        customer=app.customer,
        terms=contract_terms(app),
        actor=actor or app.owner,
        template_code="loan",
    )
    contract_send(contract=contract, actor=actor or app.owner)
    _transition(
        app,
        S.CONTRACT_SENT,
        actor=actor,
        title=_("申请 %(n)s 合同已发送签署（%(c)s）")
        % {"n": app.number, "c": getattr(contract, "number", "")},
        detail={"contract": getattr(contract, "pk", None)},
    )


@transaction.atomic
def on_contract_signed(contract: Any) -> None:
    """Listener registered with contracts: signed → create the loan pending disbursement."""
    if getattr(contract, "subject_type", "") != SUBJECT_TYPE:
        return
    try:
        app = _lock(Application(pk=int(contract.subject_id)))
    except (Application.DoesNotExist, TypeError, ValueError):
        return
    if app.status != S.CONTRACT_SENT:
        return
    _transition(
        app,
        S.SIGNED,
        actor=None,
        title=_("申请 %(n)s 合同已签署") % {"n": app.number},
        detail={"contract": getattr(contract, "pk", None)},
    )
    _create_loan(app, actor=None)


@transaction.atomic
def on_contract_closed(contract: Any, status: str) -> None:
    """Listener registered with contracts: a rejected or expired contract sends the application
    back to approved, with the reason, so staff can issue a new contract."""
    if getattr(contract, "subject_type", "") != SUBJECT_TYPE:
        return
    try:
        app = _lock(Application(pk=int(contract.subject_id)))
    except (Application.DoesNotExist, TypeError, ValueError):
        return
    if app.status != S.CONTRACT_SENT:
        return
    reason = _("合同 %(c)s 已被拒签") if status == "rejected" else _("合同 %(c)s 已过期未签")
    note = reason % {"c": getattr(contract, "number", "")}
    _transition(
        app,
        S.APPROVED,
        actor=None,
        title=_("申请 %(n)s：%(r)s，可重新发起签署") % {"n": app.number, "r": note},
        detail={"contract": getattr(contract, "pk", None), "status": status},
        extra_fields={"decision_note": note[:300]},
    )


@_atomic
def application_contract_resend(*, application: Application, actor: Any) -> Application:
    """Issue a new contract for an approved application whose previous contract was rejected
    or expired (or never sent)."""
    app = _lock(application)
    _check_actor(app, actor, "origination.change_application")
    if app.status != S.APPROVED:
        raise InvalidState(_("只有已批准、尚未签署合同的申请可以重新发起签署。"))
    _send_contract(app, actor=actor)
    app.refresh_from_db()
    return app


def _create_loan(app: Application, *, actor: Any) -> Application:
    """signed → loan_created. A lending refusal (e.g. the credit limit) must not lose the
    signature: the application stays signed with the reason, and staff retry after fixing it."""
    from credo.lending.errors import LendingError
    from credo.lending.services import loan_create

    try:
        with transaction.atomic():
            loan = loan_create(
                customer=app.customer,
                product_version=app.product_version,
                principal=Money.from_fen(app.final_amount),
                annual_rate=app.annual_rate,
                months=app.final_months,
                actor=app.owner,
            )
    except LendingError as exc:
        app.decision_note = exc.message[:300]
        app.version += 1
        app.save(update_fields=["decision_note", "version", "updated_at"])
        audit_record(
            action="application.loan_failed", actor=actor, obj=app, metadata={"error": exc.message}
        )
        return app
    return _transition(
        app,
        S.LOAN_CREATED,
        actor=actor,
        title=_("申请 %(n)s 已生成贷款 %(l)s，等待财务放款") % {"n": app.number, "l": loan.number},
        detail={"loan": loan.pk},
        metadata={"loan": loan.number},
        extra_fields={"loan": loan, "decision_note": ""},
    )


@_atomic
def application_create_loan(*, application: Application, actor: Any) -> Application:
    """Retry the loan creation of a signed application (after the blocking reason was fixed)."""
    app = _lock(application)
    _check_actor(app, actor, "origination.change_application")
    if app.status != S.SIGNED:
        raise InvalidState(_("只有合同已签署、尚未生成贷款的申请可以生成贷款。"))
    app = _create_loan(app, actor=actor)
    if app.status != S.LOAN_CREATED:
        raise InvalidState(_("生成贷款失败：%(e)s") % {"e": app.decision_note})
    return app
