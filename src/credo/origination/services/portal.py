"""No-login customer links: upload links for one application and invitations with which the
customer starts an application."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.scope import can_access
from credo.core.audit.refusals import refuse
from credo.core.audit.services import audit_record
from credo.customers.models import Customer
from credo.lending.models import ProductVersion
from credo.origination.errors import (
    InvalidApplication,
    InvalidDocument,
    InvalidState,
    NotAllowed,
    OriginationError,
    PortalLinkInvalid,
    PortalLinkUnknown,
    RateLimited,
)
from credo.origination.models import Application, Document, PortalLink
from credo.origination.services.applications import _create
from credo.origination.services.common import (
    EDITABLE_DOCS,
    _atomic,
    _check_actor,
    _lock,
    application_url,
    logger,
)
from credo.origination.services.documents import _refuse_upload, _upload
from credo.origination.services.submission import _submit

PORTAL_DAYS = 7
PORTAL_UPLOADS_PER_WINDOW = 20
PORTAL_WINDOW = dt.timedelta(minutes=10)


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
        raise PortalLinkUnknown(_("链接无效。请联系您的客户经理获取新的链接。"))
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
            locked = _take_window_slot(
                link, PORTAL_UPLOADS_PER_WINDOW, _("上传过于频繁，请 10 分钟后再试。")
            )
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
    """Like ``_check_actor`` for a customer; the refusal is audited (core.audit.refusals)."""
    if actor is None or not actor.has_perm(perm) or not can_access(customer, actor):
        refuse(
            NotAllowed(_("没有权限为该客户生成在线申请链接。")),
            action="portal_invite.denied",
            actor=actor,
            obj=customer,
            metadata={"permission": perm},
        )


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
        _take_window_slot(
            link, PORTAL_INVITE_ATTEMPTS_PER_WINDOW, _("提交过于频繁，请 10 分钟后再试。")
        )


def _take_window_slot(link: PortalLink, limit: int, message: str) -> PortalLink:
    """Lock the link and count one use in its PORTAL_WINDOW; refuse (RateLimited) past ``limit``.
    Call inside a transaction."""
    locked = PortalLink.objects.select_for_update().get(pk=link.pk)
    now = timezone.now()
    if locked.window_start is None or now - locked.window_start > PORTAL_WINDOW:
        locked.window_start, locked.window_uploads = now, 0
    if locked.window_uploads >= limit:
        raise RateLimited(message)
    locked.window_uploads += 1
    locked.last_used_at = now
    locked.save(update_fields=["window_start", "window_uploads", "last_used_at"])
    return locked


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
