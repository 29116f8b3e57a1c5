"""Creating an application: the one path for staff, the API and the customer's invitation
link (term check against the product, guarantees, audit, customer timeline)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from credo.accounts.scope import can_access
from credo.collateral import services as collateral_services
from credo.collateral.errors import CollateralError
from credo.collateral.models import Collateral, Guarantee, LtvSnapshot
from credo.collateral.services import DeclaredCollateral, DeclaredGuarantee
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
        terms = check_terms(
            pv,
            amount=amount,
            months=months,
            rate=rate if rate not in (None, "") else pv.min_rate,
            amount_label=_("申请金额"),
        )
        from credo.lending.pricing.caps import check_terms_cap

        # 综合融资成本上限 (issue 20): the APR with the product's fees within its cap
        check_terms_cap(
            pv, principal=terms[0].fen, months=terms[1], annual_rate=terms[2], what=_("该申请")
        )
        return terms
    except LendingError as exc:
        raise InvalidApplication(exc.message) from None


@dataclass
class _Security:
    """The 担保信息 of a new application, split: records to create (credo.collateral) and
    guarantors named only (the customer's own form, an API call without ``guarantor_id``),
    kept on ``Application.guarantees`` as declared until the account manager registers them."""

    collateral: list[DeclaredCollateral] = field(default_factory=list)
    guarantees: list[DeclaredGuarantee] = field(default_factory=list)
    declared: list[dict[str, Any]] = field(default_factory=list)


def _fen(value: Any, label: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        fen = int(value) if isinstance(value, int) else Money(str(value)).fen
    except (ArithmeticError, ValueError, TypeError):
        raise InvalidApplication(_("%(l)s格式不正确。") % {"l": label}) from None
    if fen < 0:
        raise InvalidApplication(_("%(l)s不能为负数。") % {"l": label})
    return fen


def _customer(pk: Any, label: str) -> Customer:
    try:
        return Customer.objects.get(pk=int(pk))
    except (Customer.DoesNotExist, ValueError, TypeError):
        raise InvalidApplication(_("%(l)s不存在。") % {"l": label}) from None


def _clean_guarantees(rows: Any) -> _Security:
    """Rows ``{"type": "collateral", "kind", "category", "description" (or "name"), "value"
    (fen as int, yuan as text), "registration_number", "owner_id"}`` and ``{"type":
    "guarantor", "guarantor_id", "kind", "amount"}`` (or a ``name`` only)."""
    out = _Security()
    for row in rows or []:
        if not isinstance(row, dict):
            raise InvalidApplication(_("担保/抵押信息格式不正确。"))
        kind = str(row.get("type") or "").strip()
        if kind not in ("guarantor", "collateral"):
            raise InvalidApplication(_("担保类型只能是保证人或抵押物。"))
        name = str(row.get("description") or row.get("name") or "").strip()
        if kind == "collateral":
            if not name:
                raise InvalidApplication(_("请填写押品描述。"))
            value = _fen(row.get("value"), _("押品价值"))
            owner_id = row.get("owner_id")
            out.collateral.append(
                DeclaredCollateral(
                    kind=str(row.get("kind") or Collateral.Kind.MORTGAGE),
                    category=str(row.get("category") or Collateral.Category.OTHER),
                    description=name[:300],
                    value=Money.from_fen(value) if value is not None else None,
                    registration_number=str(row.get("registration_number") or "")[:60],
                    owner=_customer(owner_id, _("押品所有权人")) if owner_id else None,
                )
            )
        elif row.get("guarantor_id"):
            amount = _fen(row.get("amount"), _("保证金额"))
            out.guarantees.append(
                DeclaredGuarantee(
                    guarantor=_customer(row["guarantor_id"], _("保证人")),
                    kind=str(row.get("kind") or Guarantee.Kind.JOINT),
                    amount=Money.from_fen(amount) if amount else None,
                )
            )
        else:
            if not name:
                raise InvalidApplication(_("请填写保证人姓名或抵押物描述。"))
            out.declared.append({"type": "guarantor", "name": name[:120], "value": None})
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
    security = _clean_guarantees(guarantees)
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
        guarantees=security.declared,
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
    if security.collateral or security.guarantees:
        try:
            collateral_services.application_security_declare(
                application=app,
                actor=actor,
                collateral=security.collateral,
                guarantees=security.guarantees,
            )
        except CollateralError as exc:
            raise InvalidApplication(exc.message) from None
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


# --- 抵押率 snapshots ------------------------------------------------------------------------------
def application_ltv_snapshot(*, application: Application, stage: str, actor: Any) -> None:
    """Store the application's 抵押率 at submission (申请时) or at the approval decision (审批时,
    the approved amount). Over the maximum is a warning on the pages, never a refusal."""
    collateral_services.ltv_snapshot_take(application=application, stage=stage, actor=actor)


def on_approval_ltv(instance: Any, outcome: str) -> None:
    """Approval outcome listener (registered after the one that records the decision, so the
    approved amount is on the application): the 审批时抵押率."""
    from credo.origination.services.contract_loan import _load_subject, _outcome_actor

    if outcome != "approved":
        return
    app = _load_subject(instance)
    S = Application.Status
    # the decision listener may already have sent the contract (APPROVED → CONTRACT_SENT)
    if app is None or app.status not in (S.APPROVED, S.CONTRACT_SENT, S.SIGNED, S.LOAN_CREATED):
        return
    application_ltv_snapshot(
        application=app, stage=LtvSnapshot.Stage.APPROVAL, actor=_outcome_actor(instance)
    )
