"""Product pages: the list, a new product, editing a draft version, publishing, a new draft."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.lending.errors import LendingError
from credo.lending.forms import ProductForm, ProductVersionForm
from credo.lending.models import Product, ProductVersion
from credo.lending.pricing import caps
from credo.lending.products import services as product_services


@login_required
@permission_required("lending.manage_products", raise_exception=True)
def product_list(request: HttpRequest) -> HttpResponse:
    products = Product.objects.prefetch_related("versions").order_by("code")
    return render(request, "lending/product_list.html", {"products": products})


@login_required
@permission_required("lending.manage_products", raise_exception=True)
def product_create(request: HttpRequest) -> HttpResponse:
    form = ProductForm(request.POST or None, prefix="p")
    terms = ProductVersionForm(request.POST or None, prefix="v")
    if request.method == "POST" and form.is_valid() and terms.is_valid():
        product = product_services.product_create(
            code=form.cleaned_data["code"],
            name=form.cleaned_data["name"],
            version_data=terms.version_data(),
            actor=request.user,
        )
        messages.success(request, _("产品已创建（草稿版本 1），发布后方可使用。"))
        version = product.versions.get(number=1)
        return redirect("lending:product_version_edit", pk=version.pk)
    return render(
        request, "lending/product_form.html", {"form": form, "terms": terms, "version": None}
    )


@login_required
@permission_required("lending.manage_products", raise_exception=True)
def product_version_edit(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(ProductVersion.objects.select_related("product"), pk=pk)
    editable = version.status == ProductVersion.Status.DRAFT
    terms = ProductVersionForm(
        request.POST if request.method == "POST" and editable else None,
        prefix="v",
        initial=ProductVersionForm.initial_for(version),
    )
    if not editable:
        for field in terms.fields.values():
            field.disabled = True
    if request.method == "POST" and editable and terms.is_valid():
        try:
            product_services.version_update(
                version=version, data=terms.version_data(), actor=request.user
            )
        except LendingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("草稿已保存。"))
        return redirect("lending:product_version_edit", pk=version.pk)
    return render(
        request,
        "lending/product_form.html",
        {
            "form": None,
            "terms": terms,
            "version": version,
            "editable": editable,
            "versions": version.product.versions.order_by("-number"),
            **_apr_context(version),
        },
    )


def _apr_context(version: ProductVersion) -> dict[str, Any]:
    """年化利率 over the version's ranges (lowest–highest corner), the cap and 4 × LPR."""
    try:
        rng = caps.version_range(version)
    except LendingError:
        return {"apr_range": None}
    return {
        "apr_range": rng,
        "apr_range_over": Decimal(rng.high.percent_str) > caps.cap_of(version),
        "apr_warning": caps.lpr_warning(rng.high),
    }


@login_required
@require_POST
@permission_required("lending.manage_products", raise_exception=True)
def product_version_publish(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_object_or_404(ProductVersion, pk=pk)
    try:
        product_services.version_publish(version=version, actor=request.user)
    except LendingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("版本已发布；此前的发布版本（如有）已停用。"))
        warning = _apr_context(version).get("apr_warning")
        if warning:
            messages.warning(request, warning)
    return redirect("lending:product_version_edit", pk=version.pk)


@login_required
@require_POST
@permission_required("lending.manage_products", raise_exception=True)
def product_version_new(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product, pk=pk)
    try:
        draft = product_services.version_new(product=product, actor=request.user)
    except LendingError as exc:
        messages.error(request, exc.message)
        return redirect("lending:product_list")
    messages.success(request, _("已新建草稿版本。"))
    return redirect("lending:product_version_edit", pk=draft.pk)
