"""Pages of 押品管理: thin — parse, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.collateral import selectors, services
from credo.collateral.errors import CollateralError
from credo.collateral.forms import (
    CollateralCreateForm,
    CollateralForm,
    DecisionForm,
    GuaranteeForm,
    ReasonForm,
    RegisterForm,
    ValuationForm,
)
from credo.collateral.models import Collateral, Guarantee, ReleaseRequest
from credo.core.money import Money
from credo.core.ui.params import query_params
from credo.customers.selectors import customers_for

VIEW = "collateral.view_collateral"
MANAGE = "collateral.manage_collateral"
STATUS_BADGE: dict[str, str] = {
    Collateral.Status.DRAFT: "bg-yellow-lt",
    Collateral.Status.REGISTERED: "bg-green-lt",
    Collateral.Status.RELEASED: "bg-secondary-lt",
}


def _money(value: Any) -> Money | None:
    return Money(value) if value is not None else None


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _target(request: HttpRequest) -> dict[str, Any]:
    """The application/loan a new collateral or guarantee secures (query or form)."""
    from credo.lending.selectors import loan_get

    src = request.POST if request.method == "POST" else request.GET
    out: dict[str, Any] = {"application": None, "loan": None}
    raw_app = str(src.get("application") or "")
    if raw_app.isdigit():
        try:
            app = services._application(int(raw_app))
        except CollateralError:
            raise Http404 from None
        if not customers_for(request.user).filter(pk=app.customer_id).exists():
            raise Http404
        out["application"] = app
    raw_loan = str(src.get("loan") or "")
    if raw_loan.isdigit():
        out["loan"] = loan_get(request.user, int(raw_loan))
    return out


def _target_url(target: dict[str, Any]) -> str:
    if target["application"] is not None:
        return reverse("origination:detail", args=[target["application"].pk])
    if target["loan"] is not None:
        return reverse("lending:loan_detail", args=[target["loan"].pk])
    return ""


@login_required
@permission_required(VIEW, raise_exception=True)
def collateral_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.collateral_list(request.user, request.GET)
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    for c in page.object_list:
        c.badge = STATUS_BADGE.get(c.status, "")  # type: ignore[attr-defined]
    return render(
        request,
        "collateral/collateral_list.html",
        {
            "page": page,
            "params": query_params(request),
            "statuses": Collateral.Status.choices,
            "categories": Collateral.Category.choices,
            "kinds": Collateral.Kind.choices,
            "pending": selectors.pending_releases(request.user)[:50],
            "guarantees": selectors.guarantees_for(request.user)
            .select_related("guarantor", "loan")
            .order_by("-id")[:20],
        },
    )


@login_required
@permission_required(MANAGE, raise_exception=True)
def collateral_create(request: HttpRequest) -> HttpResponse:
    target = _target(request)
    customers = customers_for(request.user).order_by("name")
    initial: dict[str, Any] = {}
    owner = request.GET.get("owner")
    if owner and owner.isdigit():
        initial["owner"] = customers.filter(pk=int(owner)).first()
    form = CollateralCreateForm(request.POST or None, initial=initial, customers=customers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            collateral = services.collateral_create(
                actor=request.user,
                owner=data["owner"],
                kind=data["kind"],
                category=data["category"],
                description=data["description"],
                address=data["address"],
                registration_number=data["registration_number"],
                registered_on=data["registered_on"],
                expires_on=data["expires_on"],
                note=data["note"],
                application_id=target["application"].pk if target["application"] else None,
                loan=target["loan"],
                secured_amount=_money(data.get("secured_amount")),
                agreed_ltv=data.get("agreed_ltv"),
            )
            if data.get("value") is not None:
                services.valuation_add(
                    collateral=collateral,
                    actor=request.user,
                    valued_on=data["valued_on"],
                    value=Money(data["value"]),
                    appraiser=data["appraiser"],
                    method=data["method"],
                )
        except CollateralError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("押品已登记：%(n)s") % {"n": collateral.number})
            return redirect(
                _target_url(target) or reverse("collateral:detail", args=[collateral.pk])
            )
    return render(
        request,
        "collateral/collateral_form.html",
        {"form": form, "target": target, "title": _("登记押品")},
    )


@login_required
@permission_required(VIEW, raise_exception=True)
def collateral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    collateral = selectors.collateral_get(request.user, pk)
    user = request.user
    can_manage = user.has_perm(MANAGE) and collateral.status != Collateral.Status.RELEASED
    links = list(collateral.links.select_related("loan").order_by("id"))
    return render(
        request,
        "collateral/collateral_detail.html",
        {
            "c": collateral,
            "badge": STATUS_BADGE.get(collateral.status, ""),
            "valuations": collateral.valuations.select_related("created_by"),
            "links": links,
            "requests": collateral.release_requests.select_related(
                "requested_by", "decided_by", "loan"
            ),
            "can_manage": can_manage,
            "can_approve": user.has_perm(services.APPROVE),
            "valuation_form": ValuationForm() if can_manage else None,
            "register_form": RegisterForm()
            if can_manage and collateral.status == Collateral.Status.DRAFT
            else None,
            "release_form": ReasonForm()
            if can_manage and collateral.status == Collateral.Status.REGISTERED
            else None,
            "decision_form": DecisionForm(),
        },
    )


@login_required
@permission_required(MANAGE, raise_exception=True)
def collateral_edit(request: HttpRequest, pk: int) -> HttpResponse:
    collateral = selectors.collateral_get(request.user, pk)
    customers = customers_for(request.user).order_by("name")
    initial = {name: getattr(collateral, name) for name in services.COLLATERAL_FIELDS}
    initial["owner"] = collateral.owner
    form = CollateralForm(request.POST or None, initial=initial, customers=customers)
    form.fields["owner"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k in services.COLLATERAL_FIELDS}
        try:
            services.collateral_update(collateral=collateral, actor=request.user, data=data)
        except CollateralError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已保存。"))
            return redirect("collateral:detail", pk=collateral.pk)
    return render(
        request,
        "collateral/collateral_form.html",
        {"form": form, "target": None, "title": _("编辑押品"), "collateral": collateral},
    )


@login_required
@require_POST
@permission_required(MANAGE, raise_exception=True)
def valuation_add(request: HttpRequest, pk: int) -> HttpResponse:
    collateral = selectors.collateral_get(request.user, pk)
    form = ValuationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写完整有效的评估信息。"))
    else:
        data = form.cleaned_data
        try:
            services.valuation_add(
                collateral=collateral,
                actor=request.user,
                valued_on=data["valued_on"],
                value=Money(data["value"]),
                appraiser=data["appraiser"],
                method=data["method"],
                note=data["note"],
            )
        except CollateralError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已添加评估记录。"))
    return redirect("collateral:detail", pk=collateral.pk)


@login_required
@require_POST
@permission_required(MANAGE, raise_exception=True)
def collateral_register(request: HttpRequest, pk: int) -> HttpResponse:
    collateral = selectors.collateral_get(request.user, pk)
    form = RegisterForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写他项权证/登记证明编号和登记日期。"))
    else:
        try:
            services.collateral_register(
                collateral=collateral, actor=request.user, **form.cleaned_data
            )
        except CollateralError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("押品已登记。"))
    return redirect("collateral:detail", pk=collateral.pk)


@login_required
@require_POST
@permission_required(MANAGE, raise_exception=True)
def collateral_release_request(request: HttpRequest, pk: int) -> HttpResponse:
    collateral = selectors.collateral_get(request.user, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写解押原因。"))
    else:
        try:
            services.release_request(
                actor=request.user, reason=form.cleaned_data["reason"], collateral=collateral
            )
        except CollateralError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已提交解押申请，待审批。"))
    return redirect("collateral:detail", pk=collateral.pk)


@login_required
@require_POST
@permission_required(services.APPROVE, raise_exception=True)
def release_decide(request: HttpRequest, pk: int) -> HttpResponse:
    req = selectors.pending_releases(request.user).filter(pk=pk).first()
    if req is None:
        req = ReleaseRequest.objects.filter(pk=pk).first()
        if req is None or req.status == ReleaseRequest.Status.PENDING:
            raise Http404
    subject_url = (
        reverse("collateral:detail", args=[req.collateral_id])
        if req.collateral_id
        else reverse("collateral:guarantee_detail", args=[req.guarantee_id])
    )
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择审批结论。"))
        return redirect(_next(request, subject_url))
    data = form.cleaned_data
    try:
        if data["decision"] == "approve":
            services.release_approve(
                request=req,
                actor=request.user,
                note=data["note"],
                released_on=data.get("released_on"),
            )
            messages.success(request, _("已批准解押。"))
        else:
            services.release_reject(request=req, actor=request.user, note=data["note"])
            messages.success(request, _("已驳回解押申请。"))
    except CollateralError as exc:
        messages.error(request, exc.message)
    return redirect(_next(request, subject_url))


# --- guarantees ----------------------------------------------------------------------------------
@login_required
@permission_required(MANAGE, raise_exception=True)
def guarantee_create(request: HttpRequest) -> HttpResponse:
    target = _target(request)
    customers = customers_for(request.user).order_by("name")
    form = GuaranteeForm(request.POST or None, customers=customers)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            g = services.guarantee_create(
                actor=request.user,
                guarantor=data["guarantor"],
                contract_number=data["contract_number"],
                kind=data["kind"],
                amount=Money(data["amount"]),
                application_id=target["application"].pk if target["application"] else None,
                loan=target["loan"],
                period_start=data["period_start"],
                period_end=data["period_end"],
                note=data["note"],
            )
        except CollateralError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("保证合同已登记：%(n)s") % {"n": g.contract_number})
            return redirect(
                _target_url(target) or reverse("collateral:guarantee_detail", args=[g.pk])
            )
    return render(
        request,
        "collateral/collateral_form.html",
        {"form": form, "target": target, "title": _("登记保证合同")},
    )


@login_required
@permission_required(VIEW, raise_exception=True)
def guarantee_detail(request: HttpRequest, pk: int) -> HttpResponse:
    g = selectors.guarantee_get(request.user, pk)
    can_manage = request.user.has_perm(MANAGE) and g.status != Guarantee.Status.RELEASED
    return render(
        request,
        "collateral/guarantee_detail.html",
        {
            "g": g,
            "requests": g.release_requests.select_related("requested_by", "decided_by", "loan"),
            "can_manage": can_manage,
            "can_approve": request.user.has_perm(services.APPROVE),
            "release_form": ReasonForm() if can_manage else None,
            "decision_form": DecisionForm(),
        },
    )


@login_required
@permission_required(MANAGE, raise_exception=True)
def guarantee_edit(request: HttpRequest, pk: int) -> HttpResponse:
    g = selectors.guarantee_get(request.user, pk)
    customers = customers_for(request.user).order_by("name")
    initial = {name: getattr(g, name) for name in services.GUARANTEE_FIELDS}
    initial["amount"] = g.amount.yuan
    initial["guarantor"] = g.guarantor
    form = GuaranteeForm(request.POST or None, initial=initial, customers=customers)
    form.fields["guarantor"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k in services.GUARANTEE_FIELDS}
        data["amount"] = Money(data["amount"])
        try:
            services.guarantee_update(guarantee=g, actor=request.user, data=data)
        except CollateralError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已保存。"))
            return redirect("collateral:guarantee_detail", pk=g.pk)
    return render(
        request,
        "collateral/collateral_form.html",
        {"form": form, "target": None, "title": _("编辑保证合同")},
    )


@login_required
@require_POST
@permission_required(MANAGE, raise_exception=True)
def guarantee_release_request(request: HttpRequest, pk: int) -> HttpResponse:
    g = selectors.guarantee_get(request.user, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写解除原因。"))
    else:
        try:
            services.release_request(
                actor=request.user, reason=form.cleaned_data["reason"], guarantee=g
            )
        except CollateralError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已提交解除保证申请，待审批。"))
    return redirect("collateral:guarantee_detail", pk=g.pk)


@login_required
@permission_required("lending.manage_products", raise_exception=True)
def ltv_limits(request: HttpRequest) -> HttpResponse:
    """产品最高抵押率: one maximum LTV per product (empty: the configured default)."""
    from decimal import Decimal, InvalidOperation

    from credo.lending.models import Product

    products = list(Product.objects.select_related("ltv_limit").order_by("code"))
    if request.method == "POST":
        product = next((p for p in products if str(p.pk) == request.POST.get("product")), None)
        raw = (request.POST.get("max_ltv") or "").strip()
        try:
            value = Decimal(raw) if raw else None
            if product is None:
                raise Http404
            services.ltv_limit_set(product=product, max_ltv=value, actor=request.user)
        except (InvalidOperation, ValueError):
            messages.error(request, _("最高抵押率应在 0 到 1000 之间。"))
        except CollateralError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已保存。"))
        return redirect("collateral:ltv_limits")
    rows = []
    for p in products:
        limit = getattr(p, "ltv_limit", None) if hasattr(p, "ltv_limit") else None
        rows.append({"product": p, "limit": limit.max_ltv if limit else None})
    return render(
        request,
        "collateral/ltv_limits.html",
        {"rows": rows, "default": selectors.max_ltv(None)},
    )
