from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.accounts.fieldperms import can_view_clear, display_value, masked_value
from credo.core.customfields import engine as cf
from credo.core.formrender import FAST_FORM_RENDERER
from credo.core.regions import children_of, full_name
from credo.core.ui.params import query_params
from credo.customers import selectors, services
from credo.customers.errors import CustomerError, DuplicateCustomer
from credo.customers.external import external_pull
from credo.customers.forms import (
    AuthorizationForm,
    ContactForm,
    CustomerForm,
    RelationForm,
)
from credo.customers.industries import INDUSTRY_SECTIONS
from credo.customers.models import Customer, CustomerEvent, DataKind, Relation
from credo.customers.profile import SENSITIVE_FIELDS

TIMELINE_PAGE = 20


def _masked(customer: Customer, field: str) -> str:
    return masked_value(customer, field)


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.customer_list(request.user, request.GET)
    page = selectors.paginate(qs, request.GET.get("page"))
    columns = cf.list_columns("customer", request.user)
    rows = []
    # labels looked up here, once per page: ``get_FOO_display`` rebuilds the choices dict on
    # every call, twice per row in the template
    kinds, industries = dict(Customer.Kind.choices), dict(INDUSTRY_SECTIONS)
    for c in page.object_list:
        rows.append(
            {
                "c": c,
                "url": reverse("customers:detail", args=[c.pk]),
                "kind_label": kinds.get(c.kind, c.kind),
                "industry_label": industries.get(c.industry, c.industry),
                "phone": _masked(c, "phone"),
                "identifier": c.uscc
                if c.kind == Customer.Kind.ENTERPRISE
                else _masked(c, "id_number"),
                "region": full_name(c.region_code) if c.region_code else "",
                "custom": [cf.display(f, c.custom.get(f.key)) for f in columns],
            }
        )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "customers/list.html",
        {
            "page": page,
            "rows": rows,
            "columns": columns,
            "params": query_params(request),
            "querystring": query.urlencode(),
            "industries": INDUSTRY_SECTIONS,
            "cities": children_of("140000"),
            "grades": Customer.RiskGrade.choices[1:],
            "kinds": Customer.Kind.choices,
            "filter_fields": cf.filter_fields("customer", request.user),
            "owners": selectors.owner_choices(request.user),
        },
    )


def _form_context(form: CustomerForm, kind: str, customer: Customer | None) -> dict[str, Any]:
    return {
        "form": form,
        "kind": kind,
        "customer": customer,
        "kind_label": Customer.Kind(kind).label,
    }


@login_required
@permission_required("customers.add_customer", raise_exception=True)
def customer_create(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("kind") or request.POST.get("kind") or Customer.Kind.ENTERPRISE
    if kind not in Customer.Kind.values:
        raise Http404
    form = CustomerForm(request.POST or None, request.FILES or None, kind=kind, user=request.user)
    duplicate = None
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                customer = services.customer_create(
                    actor=request.user,
                    data={**form.profile_data, "kind": kind},
                    custom=cf.merge_cleaned("customer", request.user, form.cleaned_data, {}),
                )
        except DuplicateCustomer as exc:
            duplicate = exc.existing
            for field, message in exc.field_errors.items():
                form.add_error(field if field in form.fields else None, message)
        except CustomerError as exc:
            for field, message in exc.field_errors.items():
                form.add_error(field if field in form.fields else None, message)
            if not exc.field_errors:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("客户档案已创建。"))
            return redirect("customers:detail", pk=customer.pk)
    ctx = _form_context(form, kind, None)
    ctx["duplicate"] = duplicate
    ctx["duplicate_visible"] = (
        duplicate is not None
        and selectors.customers_for(request.user).filter(pk=duplicate.pk).exists()
    )
    return render(request, "customers/form.html", ctx)


@login_required
@permission_required("customers.change_customer", raise_exception=True)
def customer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(request.user, pk)
    form = CustomerForm(
        request.POST or None,
        request.FILES or None,
        kind=customer.kind,
        user=request.user,
        instance=customer,
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                services.customer_update(
                    customer=customer,
                    actor=request.user,
                    data=form.profile_data,
                    custom=cf.merge_cleaned(
                        "customer", request.user, form.cleaned_data, customer.custom
                    ),
                    expected_version=form.cleaned_data.get("version"),
                )
        except CustomerError as exc:
            for field, message in exc.field_errors.items():
                form.add_error(field if field in form.fields else None, message)
            if not exc.field_errors:
                form.add_error(None, exc.message)
        else:
            messages.success(request, _("客户资料已保存。"))
            return redirect("customers:detail", pk=customer.pk)
    return render(request, "customers/form.html", _form_context(form, customer.kind, customer))


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(request.user, pk)
    parties = selectors.related_parties(customer, request.user)
    sensitive = []
    for field in ("id_number", "phone", "bank_account"):
        if customer.kind == Customer.Kind.ENTERPRISE and field == "id_number":
            continue
        key = f"customers.customer.{field}"
        sensitive.append(
            {
                "field": field,
                "label": getattr(Customer._meta.get_field(field), "verbose_name", field),
                "masked": _masked(customer, field),
                "can_reveal": can_view_clear(request.user, key) and bool(getattr(customer, field)),
            }
        )
    contacts = list(customer.contacts.all())
    for contact in contacts:
        contact.masked_phone = masked_value(contact, "phone")  # type: ignore[attr-defined]
    counts = selectors.timeline_counts(customer)
    return render(
        request,
        "customers/detail.html",
        {
            "customer": customer,
            "region": full_name(customer.region_code) if customer.region_code else "",
            "sensitive": sensitive,
            "custom_rows": cf.display_rows("customer", request.user, customer.custom),
            "figures": selectors.key_figures(customer),
            "business": selectors.business_rows(customer, request.user),
            # the parties are read once and given to the flags and the graph
            "related_flags": selectors.related_risk_flags(customer, parties),
            "parties": parties,
            "graph": selectors.relation_graph(customer, request.user, parties),
            "contacts": contacts,
            "authorizations": selectors.authorizations_panel(customer),
            "pulls": selectors.pulls_panel(customer),
            "counts": counts,
            "event_total": sum(counts.values()),
            "event_kinds": CustomerEvent.Kind.choices,
            "data_kinds": DataKind.choices,
            # the add dialogs' fields, rendered without the widget template machinery (same HTML)
            "relation_form": RelationForm(renderer=FAST_FORM_RENDERER),
            "contact_form": ContactForm(renderer=FAST_FORM_RENDERER),
            "authorization_form": AuthorizationForm(renderer=FAST_FORM_RENDERER),
            "can_change": request.user.has_perm("customers.change_customer"),
            "can_pull": request.user.has_perm("customers.pull_external_data"),
        },
    )


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def customer_timeline(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(request.user, pk)
    kinds = [k for k in request.GET.getlist("kind") if k in CustomerEvent.Kind.values]
    qs = selectors.timeline(customer, kinds=kinds or None)
    page = selectors.paginate(qs, request.GET.get("page"), TIMELINE_PAGE)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "customers/_timeline.html",
        {
            "customer": customer,
            "page": page,
            "kinds": kinds,
            "querystring": query.urlencode(),
        },
    )


@login_required
@require_POST
def customer_reveal(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """Show one sensitive value in clear — only if permitted, always audited."""
    if field not in SENSITIVE_FIELDS:
        raise Http404
    customer = selectors.customer_get(request.user, pk)
    if not can_view_clear(request.user, f"customers.customer.{field}"):
        return HttpResponse(_("无权查看明文"), status=403)
    with transaction.atomic():
        value = display_value(request.user, customer, field, purpose="reveal")
    return HttpResponse(f'<span class="font-monospace">{value}</span>')


def _find_other(request: HttpRequest, text: str) -> Customer | None:
    qs = selectors.customers_for(request.user).filter(
        selectors.search_q(text, request.user, purpose="relation")
    )
    matches = list(qs[:2])
    return matches[0] if len(matches) == 1 else None


@login_required
@permission_required("customers.change_customer", raise_exception=True)
@require_POST
def relation_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(request.user, pk)
    form = RelationForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("关联关系信息不完整。"))
        return redirect(f"{reverse('customers:detail', args=[pk])}#relations")
    other = _find_other(request, form.cleaned_data["other"])
    if other is None:
        messages.error(request, _("未找到唯一匹配的关联客户，请输入完整名称或证件号。"))
        return redirect(f"{reverse('customers:detail', args=[pk])}#relations")
    src, dst = (other, customer) if form.cleaned_data["direction"] == "in" else (customer, other)
    try:
        services.relation_add(
            from_customer=src,
            to_customer=dst,
            kind=form.cleaned_data["kind"],
            actor=request.user,
            share_pct=form.cleaned_data.get("share_pct"),
            note=form.cleaned_data.get("note", ""),
        )
    except CustomerError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已添加关联关系。"))
    return redirect(f"{reverse('customers:detail', args=[pk])}#relations")


@login_required
@permission_required("customers.change_customer", raise_exception=True)
@require_POST
def relation_remove(request: HttpRequest, pk: int, rel_pk: int) -> HttpResponse:
    customer = selectors.customer_get(request.user, pk)
    relation = get_object_or_404(
        Relation, Q(from_customer=customer) | Q(to_customer=customer), pk=rel_pk
    )
    services.relation_remove(relation=relation, actor=request.user)
    messages.success(request, _("已解除关联关系。"))
    return redirect(f"{reverse('customers:detail', args=[pk])}#relations")


@login_required
@permission_required("customers.change_customer", raise_exception=True)
@require_POST
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(request.user, pk)
    form = ContactForm(request.POST)
    if form.is_valid():
        try:
            services.contact_add(customer=customer, actor=request.user, **form.cleaned_data)
        except CustomerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("已添加联系人。"))
    else:
        messages.error(request, _("请填写联系人姓名。"))
    return redirect(f"{reverse('customers:detail', args=[pk])}#profile")


@login_required
@permission_required("customers.pull_external_data", raise_exception=True)
@require_POST
def authorization_add(request: HttpRequest, pk: int) -> HttpResponse:
    customer = selectors.customer_get(request.user, pk)
    form = AuthorizationForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.authorization_record(
                customer=customer, actor=request.user, **form.cleaned_data
            )
        except CustomerError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("授权已登记。"))
    else:
        errors = "；".join(str(e) for errs in form.errors.values() for e in errs)
        messages.error(request, _("授权信息有误：%(e)s") % {"e": errors})
    return redirect(f"{reverse('customers:detail', args=[pk])}#external")


@login_required
@permission_required("customers.pull_external_data", raise_exception=True)
@require_POST
def external_pull_view(request: HttpRequest, pk: int, kind: str) -> HttpResponse:
    customer = selectors.customer_get(request.user, pk)
    try:
        pull = external_pull(customer=customer, kind=kind, actor=request.user)
    except CustomerError as exc:
        messages.error(request, exc.message)
    else:
        if pull.status == "ok":
            messages.success(request, _("%(kind)s查询成功。") % {"kind": pull.get_kind_display()})
        else:
            messages.warning(
                request,
                _("%(kind)s查询未成功：%(err)s")
                % {"kind": pull.get_kind_display(), "err": pull.error},
            )
    return redirect(f"{reverse('customers:detail', args=[pk])}#external")


@login_required
@permission_required("customers.view_customer", raise_exception=True)
def pull_detail(request: HttpRequest, pk: int, pull_pk: int) -> HttpResponse:
    customer = selectors.customer_get(request.user, pk)
    pull = get_object_or_404(customer.pulls.select_related("provider"), pk=pull_pk)
    return render(
        request,
        "customers/pull_detail.html",
        {
            "customer": customer,
            "pull": pull,
            "parsed_json": json.dumps(pull.parsed, ensure_ascii=False, indent=2),
        },
    )
