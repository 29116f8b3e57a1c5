"""Creating an application: the one path for staff, the API and the customer's invitation
link (term check against the product, guarantees, audit, customer timeline)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from credo.accounts.scope import can_access
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.customers.events import record_event
from credo.customers.models import Customer
from credo.lending.models import ProductVersion
from credo.origination.errors import (
    InvalidApplication,
    NotAllowed,
)
from credo.origination.models import Application, PortalLink
from credo.origination.services.common import (
    next_number,
)


# --- create --------------------------------------------------------------------------------------
def _validate_terms(
    pv: ProductVersion, amount: Any, months: Any, rate: Any
) -> tuple[Money, int, Decimal]:
    """Terms against the product (the lending core's one check) plus: the product is on sale;
    no rate given → the product's minimum rate."""
    from credo.lending.errors import LendingError
    from credo.lending.products import check_terms

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
        number=next_number(),
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
