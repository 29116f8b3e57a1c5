"""Every write of the collateral app: keyword-only services, one transaction each, audited.

Release (解押 / 解除保证) is maker-checker: a release request is opened (by staff, or — on behalf
of the loan's account manager — the moment the secured loan is paid off, with the after-close job
as the safety net; see ``jobs``) and approved by a second person holding
``collateral.approve_collateral_release``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.accounts.scope import can_access
from credo.collateral import states  # noqa: F401  (registers the machines)
from credo.collateral.errors import InvalidCollateral, InvalidState, NotAllowed
from credo.collateral.ltv import exceeds, ltv_pct
from credo.collateral.models import (
    Collateral,
    CollateralLink,
    CollateralValuation,
    Guarantee,
    LtvSnapshot,
    ReleaseRequest,
)
from credo.core import clock, fsm
from credo.core.audit.services import audit_record, diff_fields
from credo.core.money import Money
from credo.core.sequence import daily_number
from credo.lending.models import Loan

MANAGE = "collateral.manage_collateral"
APPROVE = "collateral.approve_collateral_release"
TODO_SOURCE = "collateral"
COLLATERAL_FIELDS = (
    "kind",
    "category",
    "description",
    "address",
    "registration_number",
    "registered_on",
    "expires_on",
    "note",
)
GUARANTEE_FIELDS = (
    "contract_number",
    "kind",
    "amount",
    "period_start",
    "period_end",
    "note",
)


# --- access ---------------------------------------------------------------------------------------
def _require(actor: Any, perm: str, message: str) -> None:
    if actor is None or not actor.has_perm(perm):
        raise NotAllowed(message)


def _application(application_id: int) -> Any:
    """The loan application by id. Origination sits above this app (it imports us), so the
    model is looked up by label, never imported."""
    model = apps.get_model("origination", "Application")
    try:
        return model.objects.select_related("customer", "product_version").get(pk=application_id)
    except model.DoesNotExist:
        raise InvalidCollateral(_("贷款申请不存在。")) from None


def _check_targets(actor: Any, application_id: int | None, loan: Loan | None) -> None:
    if application_id is not None:
        app = _application(application_id)
        if actor is not None and not can_access(app.customer, actor):
            raise NotAllowed(_("没有权限操作该贷款申请。"))
    if loan is not None and actor is not None and not can_access(loan, actor):
        raise NotAllowed(_("没有权限操作该贷款。"))


def _check_customer(actor: Any, customer: Any) -> None:
    if actor is not None and not can_access(customer, actor):
        raise NotAllowed(_("没有权限为该客户登记押品或保证。"))


def _snapshot(obj: Any, names: tuple[str, ...]) -> dict[str, Any]:
    out = {}
    for name in names:
        value = getattr(obj, name)
        out[name] = value.fen if isinstance(value, Money) else value
    return out


def _check_dates(registered_on: Any, expires_on: Any) -> None:
    if registered_on and expires_on and expires_on < registered_on:
        raise InvalidCollateral(_("登记到期日不能早于登记日期。"))


# --- collateral ----------------------------------------------------------------------------------
@transaction.atomic
def collateral_create(
    *,
    actor: Any,
    owner: Any,
    kind: str,
    category: str,
    description: str,
    address: str = "",
    registration_number: str = "",
    registered_on: dt.date | None = None,
    expires_on: dt.date | None = None,
    note: str = "",
    application_id: int | None = None,
    loan: Loan | None = None,
    secured_amount: Money | None = None,
    agreed_ltv: Decimal | None = None,
) -> Collateral:
    """A new collateral, 待登记 — or 已登记 when the 他项权证 number and date are given."""
    _require(actor, MANAGE, _("没有管理押品的权限。"))
    _check_customer(actor, owner)
    _check_targets(actor, application_id, loan)
    if kind not in Collateral.Kind.values or category not in Collateral.Category.values:
        raise InvalidCollateral(_("请选择担保方式与押品类别。"))
    description = (description or "").strip()
    if not description:
        raise InvalidCollateral(_("请填写押品描述。"))
    _check_dates(registered_on, expires_on)
    registered = bool(registration_number.strip() and registered_on)
    collateral = Collateral.objects.create(
        number=daily_number("collateral", "C", day=clock.today(), numbered=Collateral),
        kind=kind,
        category=category,
        owner=owner,
        description=description[:300],
        address=address.strip()[:200],
        registration_number=registration_number.strip()[:60],
        registered_on=registered_on,
        expires_on=expires_on,
        note=note.strip()[:300],
        status=Collateral.Status.REGISTERED if registered else Collateral.Status.DRAFT,
        created_by=actor,
    )
    audit_record(
        action="collateral.create",
        actor=actor,
        obj=collateral,
        changes=diff_fields(
            {}, {**_snapshot(collateral, COLLATERAL_FIELDS), "status": collateral.status}
        ),
        metadata={"owner_id": owner.pk},
    )
    if application_id is not None or loan is not None:
        _link(collateral, actor, application_id, loan, secured_amount, agreed_ltv)
    return collateral


@transaction.atomic
def collateral_update(*, collateral: Collateral, actor: Any, data: dict[str, Any]) -> Collateral:
    """Edit the descriptive fields (not the status: register/release have their own steps)."""
    _require(actor, MANAGE, _("没有管理押品的权限。"))
    locked = Collateral.objects.select_for_update().get(pk=collateral.pk)
    _check_customer(actor, locked.owner)
    if locked.status == Collateral.Status.RELEASED:
        raise InvalidState(_("押品已解押，不能修改。"))
    before = _snapshot(locked, COLLATERAL_FIELDS)
    for name in COLLATERAL_FIELDS:
        if name in data:
            value = data[name]
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
    if not locked.description:
        raise InvalidCollateral(_("请填写押品描述。"))
    _check_dates(locked.registered_on, locked.expires_on)
    changes = diff_fields(before, _snapshot(locked, COLLATERAL_FIELDS))
    if changes:
        locked.version += 1
        locked.save()
        audit_record(action="collateral.update", actor=actor, obj=locked, changes=changes)
    return locked


@transaction.atomic
def collateral_register(
    *,
    collateral: Collateral,
    actor: Any,
    registration_number: str,
    registered_on: dt.date,
    expires_on: dt.date | None = None,
) -> Collateral:
    """待登记 → 已登记 with the 他项权证/登记证明 number and dates."""
    _require(actor, MANAGE, _("没有管理押品的权限。"))
    locked = Collateral.objects.select_for_update().get(pk=collateral.pk)
    _check_customer(actor, locked.owner)
    if not (registration_number or "").strip() or registered_on is None:
        raise InvalidCollateral(_("请填写他项权证/登记证明编号和登记日期。"))
    _check_dates(registered_on, expires_on)
    locked.registration_number = registration_number.strip()[:60]
    locked.registered_on = registered_on
    locked.expires_on = expires_on
    try:
        fsm.transition(
            locked,
            Collateral.Status.REGISTERED,
            actor=actor,
            action="collateral.register",
            update_fields=["registration_number", "registered_on", "expires_on", "updated_at"],
            metadata={
                "registration_number": locked.registration_number,
                "registered_on": registered_on.isoformat(),
            },
        )
    except fsm.TransitionRefused as exc:
        raise InvalidState(str(exc)) from None
    return locked


@transaction.atomic
def valuation_add(
    *,
    collateral: Collateral,
    actor: Any,
    valued_on: dt.date,
    value: Money,
    appraiser: str,
    method: str,
    note: str = "",
) -> CollateralValuation:
    """One more valuation; the latest by date (then by entry) is the current value."""
    _require(actor, MANAGE, _("没有管理押品的权限。"))
    locked = Collateral.objects.select_for_update().get(pk=collateral.pk)
    _check_customer(actor, locked.owner)
    if value.fen < 0:
        raise InvalidCollateral(_("评估价值不能为负数。"))
    if valued_on > clock.today():
        raise InvalidCollateral(_("评估日期不能晚于今天。"))
    if method not in CollateralValuation.Method.values:
        raise InvalidCollateral(_("请选择评估方法。"))
    if not (appraiser or "").strip():
        raise InvalidCollateral(_("请填写评估机构或评估人。"))
    valuation = CollateralValuation.objects.create(  # type: ignore[misc]
        collateral=locked,
        valued_on=valued_on,
        value=value,
        appraiser=appraiser.strip()[:120],
        method=method,
        note=(note or "").strip()[:300],
        created_by=actor,
    )
    before = {"current_value": locked.current_value.fen if locked.current_value else None}
    latest = locked.valuations.order_by("-valued_on", "-id").first()
    assert latest is not None
    locked.current_value = latest.value
    locked.valued_on = latest.valued_on
    locked.save(update_fields=["current_value", "valued_on", "updated_at"])
    audit_record(
        action="collateral.valuation_add",
        actor=actor,
        obj=locked,
        changes=diff_fields(before, {"current_value": locked.current_value.fen}),
        metadata={
            "valuation_id": valuation.pk,
            "valued_on": valued_on.isoformat(),
            "value_fen": value.fen,
            "appraiser": valuation.appraiser,
            "method": method,
        },
    )
    return valuation


def _link(
    collateral: Collateral,
    actor: Any,
    application_id: int | None,
    loan: Loan | None,
    secured_amount: Money | None,
    agreed_ltv: Decimal | None,
) -> CollateralLink:
    if application_id is None and loan is None:
        raise InvalidCollateral(_("请选择担保的贷款申请或贷款。"))
    if agreed_ltv is not None and not Decimal(0) < agreed_ltv <= Decimal(1000):
        raise InvalidCollateral(_("约定抵押率应在 0 到 1000 之间。"))
    existing = CollateralLink.objects.filter(collateral=collateral).filter(
        Q(application_id=application_id) if application_id is not None else Q(loan=loan)
    )
    if existing.exists():
        raise InvalidCollateral(_("该押品已关联此申请或贷款。"))
    link = CollateralLink.objects.create(  # type: ignore[misc]
        collateral=collateral,
        application_id=application_id,
        loan=loan,
        secured_amount=secured_amount,
        agreed_ltv=agreed_ltv,
    )
    audit_record(
        action="collateral.link",
        actor=actor,
        obj=collateral,
        metadata={
            "link_id": link.pk,
            "application_id": application_id,
            "loan_id": loan.pk if loan else None,
            "secured_amount_fen": secured_amount.fen if secured_amount else None,
            "agreed_ltv": str(agreed_ltv) if agreed_ltv is not None else None,
        },
    )
    return link


@transaction.atomic
def collateral_link(
    *,
    collateral: Collateral,
    actor: Any,
    application_id: int | None = None,
    loan: Loan | None = None,
    secured_amount: Money | None = None,
    agreed_ltv: Decimal | None = None,
) -> CollateralLink:
    _require(actor, MANAGE, _("没有管理押品的权限。"))
    locked = Collateral.objects.select_for_update().get(pk=collateral.pk)
    if locked.status == Collateral.Status.RELEASED:
        raise InvalidState(_("押品已解押，不能再关联。"))
    _check_targets(actor, application_id, loan)
    return _link(locked, actor, application_id, loan, secured_amount, agreed_ltv)


# --- guarantees ----------------------------------------------------------------------------------
def _check_guarantee(g: Guarantee) -> None:
    if not (g.contract_number or "").strip():
        raise InvalidCollateral(_("请填写保证合同编号。"))
    if g.kind not in Guarantee.Kind.values:
        raise InvalidCollateral(_("请选择保证方式。"))
    if g.amount is None or g.amount.fen <= 0:
        raise InvalidCollateral(_("保证金额必须大于零。"))
    if g.period_start and g.period_end and g.period_end < g.period_start:
        raise InvalidCollateral(_("保证期间止日不能早于起日。"))
    if (
        Guarantee.objects.filter(contract_number=g.contract_number.strip())
        .exclude(pk=g.pk)
        .exists()
    ):
        raise InvalidCollateral(_("保证合同编号已存在。"))


@transaction.atomic
def guarantee_create(
    *,
    actor: Any,
    guarantor: Any,
    contract_number: str,
    kind: str,
    amount: Money,
    application_id: int | None = None,
    loan: Loan | None = None,
    period_start: dt.date | None = None,
    period_end: dt.date | None = None,
    note: str = "",
    signed: bool = True,
) -> Guarantee:
    """A 保证合同; ``signed`` → 生效中 at once, else 待生效."""
    _require(actor, MANAGE, _("没有管理保证合同的权限。"))
    _check_targets(actor, application_id, loan)
    if application_id is None and loan is None:
        raise InvalidCollateral(_("请选择担保的贷款申请或贷款。"))
    g = Guarantee(  # type: ignore[misc]
        contract_number=(contract_number or "").strip()[:60],
        guarantor=guarantor,
        kind=kind,
        amount=amount,
        application_id=application_id,
        loan=loan,
        period_start=period_start,
        period_end=period_end,
        note=(note or "").strip()[:300],
        status=Guarantee.Status.ACTIVE if signed else Guarantee.Status.DRAFT,
        created_by=actor,
    )
    _check_guarantee(g)
    g.save()
    audit_record(
        action="guarantee.create",
        actor=actor,
        obj=g,
        changes=diff_fields({}, {**_snapshot(g, GUARANTEE_FIELDS), "status": g.status}),
        metadata={
            "guarantor_id": guarantor.pk,
            "application_id": application_id,
            "loan_id": loan.pk if loan else None,
        },
    )
    return g


@transaction.atomic
def guarantee_update(*, guarantee: Guarantee, actor: Any, data: dict[str, Any]) -> Guarantee:
    _require(actor, MANAGE, _("没有管理保证合同的权限。"))
    locked = Guarantee.objects.select_for_update().get(pk=guarantee.pk)
    if locked.status == Guarantee.Status.RELEASED:
        raise InvalidState(_("保证合同已解除，不能修改。"))
    before = _snapshot(locked, GUARANTEE_FIELDS)
    for name in GUARANTEE_FIELDS:
        if name in data:
            value = data[name]
            setattr(locked, name, value.strip() if isinstance(value, str) else value)
    _check_guarantee(locked)
    changes = diff_fields(before, _snapshot(locked, GUARANTEE_FIELDS))
    if changes:
        locked.save()
        audit_record(action="guarantee.update", actor=actor, obj=locked, changes=changes)
    return locked


@transaction.atomic
def guarantee_activate(*, guarantee: Guarantee, actor: Any) -> Guarantee:
    _require(actor, MANAGE, _("没有管理保证合同的权限。"))
    locked = Guarantee.objects.select_for_update().get(pk=guarantee.pk)
    try:
        fsm.transition(locked, Guarantee.Status.ACTIVE, actor=actor, action="guarantee.activate")
    except fsm.TransitionRefused as exc:
        raise InvalidState(str(exc)) from None
    return locked


# --- release (maker-checker) ---------------------------------------------------------------------
def _subject(req: ReleaseRequest) -> Collateral | Guarantee:
    subject = req.collateral if req.collateral_id else req.guarantee
    assert subject is not None
    return subject


def _open_request(
    *,
    collateral: Collateral | None,
    guarantee: Guarantee | None,
    loan: Loan | None,
    reason: str,
    requested_by: Any,
    actor: Any,
) -> ReleaseRequest:
    req = ReleaseRequest.objects.create(
        collateral=collateral,
        guarantee=guarantee,
        loan=loan,
        reason=reason[:300],
        requested_by=requested_by,
    )
    subject = _subject(req)
    audit_record(
        action="collateral.release_request",
        actor=actor,
        obj=subject,
        metadata={
            "request_id": req.pk,
            "loan_id": loan.pk if loan else None,
            "reason": req.reason,
            "requested_by": requested_by.pk if requested_by else None,
        },
    )
    return req


@transaction.atomic
def release_request(
    *,
    actor: Any,
    reason: str,
    collateral: Collateral | None = None,
    guarantee: Guarantee | None = None,
    loan: Loan | None = None,
) -> ReleaseRequest:
    """Staff open a release request (the payoff job opens them by itself)."""
    _require(actor, MANAGE, _("没有发起解押的权限。"))
    if (collateral is None) == (guarantee is None):
        raise InvalidCollateral(_("请选择要解除的押品或保证合同。"))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidCollateral(_("请填写解押原因。"))
    if collateral is not None:
        locked_c = Collateral.objects.select_for_update().get(pk=collateral.pk)
        _check_customer(actor, locked_c.owner)
        if locked_c.status != Collateral.Status.REGISTERED:
            raise InvalidState(_("只有已登记的押品可以申请解押。"))
        if locked_c.release_requests.filter(status=ReleaseRequest.Status.PENDING).exists():
            raise InvalidState(_("该押品已有待审批的解押申请。"))
        return _open_request(
            collateral=locked_c,
            guarantee=None,
            loan=loan,
            reason=reason,
            requested_by=actor,
            actor=actor,
        )
    assert guarantee is not None
    locked_g = Guarantee.objects.select_for_update().get(pk=guarantee.pk)
    if locked_g.status == Guarantee.Status.RELEASED:
        raise InvalidState(_("保证合同已解除。"))
    if locked_g.release_requests.filter(status=ReleaseRequest.Status.PENDING).exists():
        raise InvalidState(_("该保证合同已有待审批的解除申请。"))
    return _open_request(
        collateral=None,
        guarantee=locked_g,
        loan=loan,
        reason=reason,
        requested_by=actor,
        actor=actor,
    )


def _owner_user(subject: Collateral | Guarantee, loan: Loan | None) -> Any:
    if loan is not None:
        return loan.owner
    if isinstance(subject, Collateral):
        return subject.owner.owner
    if subject.loan_id:
        return subject.loan.owner  # type: ignore[union-attr]
    return subject.guarantor.owner


def _detail_url(subject: Collateral | Guarantee) -> str:
    if isinstance(subject, Collateral):
        return reverse("collateral:detail", args=[subject.pk])
    return reverse("collateral:guarantee_detail", args=[subject.pk])


@transaction.atomic
def release_approve(
    *,
    request: ReleaseRequest,
    actor: Any,
    note: str = "",
    released_on: dt.date | None = None,
) -> ReleaseRequest:
    """A second person approves: the collateral is 已解押 (or the guarantee 已解除) with the
    release date; the account manager gets a todo to hand back the 他项权证 / notify the
    guarantor."""
    from credo.core.todo.services import todo_create

    _require(actor, APPROVE, _("没有审批解押的权限。"))
    req = ReleaseRequest.objects.select_for_update().get(pk=request.pk)
    if req.requested_by_id is not None and req.requested_by_id == actor.pk:
        raise NotAllowed(_("解押申请须由申请人以外的人审批。"))
    released_on = released_on or clock.today()
    if released_on > clock.today():
        raise InvalidCollateral(_("解押日期不能晚于今天。"))
    try:
        req.decided_by = actor
        req.decided_at = timezone.now()
        req.decision_note = (note or "").strip()[:300]
        fsm.transition(
            req,
            ReleaseRequest.Status.APPROVED,
            actor=actor,
            action="collateral.release_approve",
            update_fields=["decided_by", "decided_at", "decision_note"],
        )
        if req.collateral_id:
            coll = Collateral.objects.select_for_update().get(pk=req.collateral_id)
            coll.released_on = released_on
            subject: Collateral | Guarantee = coll
            fsm.transition(
                coll,
                Collateral.Status.RELEASED,
                actor=actor,
                action="collateral.release",
                update_fields=["released_on", "updated_at"],
                metadata={"request_id": req.pk, "released_on": released_on.isoformat()},
            )
            title = _("办理解押手续：%(n)s %(d)s") % {
                "n": coll.number,
                "d": coll.description[:60],
            }
        else:
            guar = Guarantee.objects.select_for_update().get(pk=req.guarantee_id or 0)
            guar.released_on = released_on
            subject = guar
            fsm.transition(
                guar,
                Guarantee.Status.RELEASED,
                actor=actor,
                action="guarantee.release",
                update_fields=["released_on", "updated_at"],
                metadata={"request_id": req.pk, "released_on": released_on.isoformat()},
            )
            title = _("通知保证人解除保证：%(n)s") % {"n": guar.contract_number}
    except fsm.TransitionRefused as exc:
        raise InvalidState(str(exc)) from None
    user = _owner_user(subject, req.loan)
    if user is not None:
        todo_create(
            user=user,
            title=title,
            description=_("解押/解除申请已批准（审批人：%(u)s）。") % {"u": actor},
            due_date=clock.today() + dt.timedelta(days=7),
            url=_detail_url(subject),
            source=TODO_SOURCE,
            dedupe_key=f"collateral-release:{req.pk}",
            actor=actor,
        )
    return req


@transaction.atomic
def release_reject(*, request: ReleaseRequest, actor: Any, note: str) -> ReleaseRequest:
    _require(actor, APPROVE, _("没有审批解押的权限。"))
    note = (note or "").strip()
    if not note:
        raise InvalidCollateral(_("请填写驳回原因。"))
    req = ReleaseRequest.objects.select_for_update().get(pk=request.pk)
    if req.requested_by_id is not None and req.requested_by_id == actor.pk:
        raise NotAllowed(_("解押申请须由申请人以外的人审批。"))
    req.decided_by = actor
    req.decided_at = timezone.now()
    req.decision_note = note[:300]
    try:
        fsm.transition(
            req,
            ReleaseRequest.Status.REJECTED,
            actor=actor,
            action="collateral.release_reject",
            update_fields=["decided_by", "decided_at", "decision_note"],
        )
    except fsm.TransitionRefused as exc:
        raise InvalidState(str(exc)) from None
    return req


@transaction.atomic
def ltv_limit_set(*, product: Any, max_ltv: Decimal | None, actor: Any) -> None:
    """A product's maximum 抵押率 (None: back to the default ``CREDO_COLLATERAL_MAX_LTV``)."""
    from credo.collateral.models import LtvLimit

    _require(actor, "lending.manage_products", _("没有管理产品的权限。"))
    if max_ltv is not None and not Decimal(0) < max_ltv <= Decimal(1000):
        raise InvalidCollateral(_("最高抵押率应在 0 到 1000 之间。"))
    existing = LtvLimit.objects.select_for_update().filter(product=product).first()
    before = {"max_ltv": str(existing.max_ltv) if existing else None}
    if max_ltv is None:
        if existing is not None:
            existing.delete()
    elif existing is None:
        LtvLimit.objects.create(product=product, max_ltv=max_ltv)
    else:
        existing.max_ltv = max_ltv
        existing.save(update_fields=["max_ltv", "updated_at"])
    after = {"max_ltv": str(max_ltv) if max_ltv is not None else None}
    changes = diff_fields(before, after)
    if changes:
        audit_record(action="collateral.ltv_limit", actor=actor, obj=product, changes=changes)


# --- declared at application ---------------------------------------------------------------------
@dataclass(frozen=True)
class DeclaredCollateral:
    """One 抵押物/质押物 as the application form states it (the valuation is the applicant's
    declaration until an appraiser's valuation is added)."""

    kind: str
    description: str
    category: str = Collateral.Category.OTHER
    value: Money | None = None
    registration_number: str = ""
    owner: Any = None  # a Customer; None → the applicant


@dataclass(frozen=True)
class DeclaredGuarantee:
    """One 保证人 (a customer) as the application form states it."""

    guarantor: Any
    kind: str = Guarantee.Kind.JOINT
    amount: Money | None = None  # None → the application's amount


DECLARED_APPRAISER = "申请时申报"


def application_security_declare(
    *,
    application: Any,
    actor: Any,
    collateral: list[DeclaredCollateral] | tuple[DeclaredCollateral, ...] = (),
    guarantees: list[DeclaredGuarantee] | tuple[DeclaredGuarantee, ...] = (),
) -> tuple[list[Collateral], list[Guarantee]]:
    """The collateral and guarantors stated on a new application become records: each
    collateral 待登记 (已填他项权证号 kept), linked to the application, with the declared value
    as its first valuation (客户申报); each guarantor a 保证合同 待生效 over the application
    amount. Called by origination inside the application's creation transaction — it has
    checked the actor may create the application (``actor`` is None for the customer's own
    application through an invitation link), so no collateral permission is required here;
    a guarantor or owner other than the applicant must be inside the actor's data scope."""
    customer = application.customer
    made_c: list[Collateral] = []
    made_g: list[Guarantee] = []
    today = clock.today()
    for i, row in enumerate(collateral, start=1):
        owner = row.owner or customer
        if owner.pk != customer.pk:
            _check_customer(actor, owner)
        if row.kind not in Collateral.Kind.values:
            raise InvalidCollateral(_("第 %(i)s 项押品：请选择抵押或质押。") % {"i": i})
        if row.category not in Collateral.Category.values:
            raise InvalidCollateral(_("第 %(i)s 项押品：押品类别不正确。") % {"i": i})
        description = (row.description or "").strip()
        if not description:
            raise InvalidCollateral(_("第 %(i)s 项押品：请填写押品描述。") % {"i": i})
        if row.value is not None and row.value.fen < 0:
            raise InvalidCollateral(_("第 %(i)s 项押品：评估价值不能为负数。") % {"i": i})
        c = Collateral.objects.create(
            number=daily_number("collateral", "C", day=today, numbered=Collateral),
            kind=row.kind,
            category=row.category,
            owner=owner,
            description=description[:300],
            registration_number=(row.registration_number or "").strip()[:60],
            status=Collateral.Status.DRAFT,
            note=(_("贷款申请 %(n)s 时申报") % {"n": application.number})[:300],
            created_by=actor,
        )
        if row.value is not None:
            CollateralValuation.objects.create(  # type: ignore[misc]
                collateral=c,
                valued_on=today,
                value=row.value,
                appraiser=DECLARED_APPRAISER,
                method=CollateralValuation.Method.DECLARED,
                created_by=actor,
            )
            c.current_value = row.value
            c.valued_on = today
            c.save(update_fields=["current_value", "valued_on", "updated_at"])
        audit_record(
            action="collateral.create",
            actor=actor,
            obj=c,
            changes=diff_fields({}, {**_snapshot(c, COLLATERAL_FIELDS), "status": c.status}),
            metadata={
                "owner_id": owner.pk,
                "application_id": application.pk,
                "declared_value_fen": row.value.fen if row.value is not None else None,
                "via": "application",
            },
        )
        _link(c, actor, application.pk, None, None, None)
        made_c.append(c)
    for i, grow in enumerate(guarantees, start=1):
        guarantor = grow.guarantor
        if guarantor is None:
            raise InvalidCollateral(_("第 %(i)s 项保证：请选择保证人。") % {"i": i})
        if guarantor.pk == customer.pk:
            raise InvalidCollateral(_("保证人不能是借款人本人。"))
        _check_customer(actor, guarantor)
        amount = grow.amount if grow.amount is not None else application.amount
        g = Guarantee(  # type: ignore[misc]
            contract_number=f"{application.number}-BZ{i}",
            guarantor=guarantor,
            kind=grow.kind,
            amount=amount,
            application_id=application.pk,
            status=Guarantee.Status.DRAFT,
            note=(_("贷款申请 %(n)s 时申报，保证合同编号签订后更正") % {"n": application.number})[
                :300
            ],
            created_by=actor,
        )
        try:
            _check_guarantee(g)
        except InvalidCollateral as exc:
            raise InvalidCollateral(_("第 %(i)s 项保证：%(e)s") % {"i": i, "e": exc}) from None
        g.save()
        audit_record(
            action="guarantee.create",
            actor=actor,
            obj=g,
            changes=diff_fields({}, {**_snapshot(g, GUARANTEE_FIELDS), "status": g.status}),
            metadata={
                "guarantor_id": guarantor.pk,
                "application_id": application.pk,
                "via": "application",
            },
        )
        made_g.append(g)
    return made_c, made_g


# --- 抵押率 snapshots ------------------------------------------------------------------------------
def ltv_snapshot_take(
    *, application: Any, stage: str, actor: Any, amount_fen: int | None = None
) -> LtvSnapshot:
    """Store the application's 抵押率 at ``stage`` (申请时 / 审批时) from the valuations current
    now: the application amount at submission, the approved amount at the decision. Over the
    product's maximum is recorded as a warning (``over_limit``), never a refusal. Taking the
    same stage again (a resubmission) replaces it; both are audited. Runs inside the caller's
    transaction (the submission / the approval decision)."""
    from credo.collateral.selectors import application_security

    if stage not in LtvSnapshot.Stage.values:
        raise InvalidCollateral(_("抵押率快照时点不正确。"))
    security = application_security(application)
    amount = application.final_amount if amount_fen is None else int(amount_fen)
    ltv = ltv_pct(amount, security.value_fen)
    limit = security.limit if security.limit is not None else Decimal(0)
    over = exceeds(ltv, security.limit)
    items = [
        {
            "id": link.collateral_id,
            "number": link.collateral.number,
            "value": link.collateral.current_value.fen
            if link.collateral.current_value is not None
            else None,
        }
        for link in security.links
    ]
    snap, created = LtvSnapshot.objects.update_or_create(  # type: ignore[misc]
        application_id=application.pk,
        moment=stage,
        defaults={
            "amount": Money.from_fen(amount),
            "collateral_value": Money.from_fen(security.value_fen),
            "ltv": ltv,
            "max_ltv": limit,
            "over_limit": over,
            "items": items,
            "taken_on": clock.today(),
            "taken_at": timezone.now(),
            "taken_by": actor,
        },
    )
    audit_record(
        action="collateral.ltv_snapshot",
        actor=actor,
        obj=snap,
        metadata={
            "application_id": application.pk,
            "stage": stage,
            "amount_fen": amount,
            "collateral_value_fen": security.value_fen,
            "ltv": str(ltv) if ltv is not None else None,
            "max_ltv": str(limit),
            "over_limit": over,
            "replaced": not created,
        },
    )
    return snap
