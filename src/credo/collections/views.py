"""催收工作台 views (thin: parse, call one service, render/redirect)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.collections import selectors, services
from credo.collections.errors import CollectionsError
from credo.collections.forms import (
    ContactForm,
    DoNotContactForm,
    PromiseForm,
    ReassignForm,
    ScriptForm,
)
from credo.collections.models import (
    CollectionCase,
    DoNotContact,
    LawyerLetter,
    Tier,
)
from credo.core.money import format_fen
from credo.lending.models import Installment


def _list(request: HttpRequest, qs: Any, template: str, extra: dict[str, Any]) -> HttpResponse:
    counts = selectors.status_counts(qs)
    params = request.GET.copy()
    if "status" not in params:
        params["status"] = "active"
    filtered = selectors.cases_filter(qs, params)
    page = Paginator(filtered, 25).get_page(request.GET.get("page"))
    ctx = {
        "page_obj": page,
        "counts": counts,
        "total": sum(counts.values()),
        "statuses": CollectionCase.Status.choices,
        "tiers": Tier.choices,
        "f": params,
        **extra,
    }
    return render(request, template, ctx)


@login_required
@permission_required("collections.view_collectioncase", raise_exception=True)
def workbench(request: HttpRequest) -> HttpResponse:
    return _list(
        request,
        selectors.cases_mine(request.user),
        "collections/workbench.html",
        {"title": _("我的催收案件"), "mode": "mine"},
    )


@login_required
@permission_required("collections.manage_cases", raise_exception=True)
def team(request: HttpRequest) -> HttpResponse:
    return _list(
        request,
        selectors.cases_visible(request.user),
        "collections/workbench.html",
        {"title": _("团队催收案件"), "mode": "team"},
    )


@login_required
@permission_required("collections.manage_cases", raise_exception=True)
def legal(request: HttpRequest) -> HttpResponse:
    qs = selectors.cases_visible(request.user).filter(tier=Tier.LEGAL)
    return _list(
        request, qs, "collections/workbench.html", {"title": _("法务/委外队列"), "mode": "legal"}
    )


@login_required
@permission_required("collections.view_compliance", raise_exception=True)
def compliance(request: HttpRequest) -> HttpResponse:
    page = Paginator(selectors.compliance_logs(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "collections/compliance.html", {"page_obj": page})


@login_required
@permission_required("collections.change_collectionscript", raise_exception=True)
def scripts(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        form = ScriptForm(request.POST)
        if form.is_valid():
            try:
                services.script_update(
                    tier=form.cleaned_data["tier"],
                    text=form.cleaned_data["text"],
                    actor=request.user,
                )
            except CollectionsError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, _("话术已保存。"))
            return redirect("collections:scripts")
    rows = [
        {"tier": value, "label": label, "text": services.script_for(value)}
        for value, label in Tier.choices
    ]
    return render(request, "collections/scripts.html", {"rows": rows})


def _detail_context(request: HttpRequest, case: CollectionCase, **forms: Any) -> dict[str, Any]:
    targets = services.contact_targets(case)
    overdue = Installment.objects.filter(
        loan=case.loan, status__in=(Installment.Status.DUE, Installment.Status.OVERDUE)
    ).order_by("period")
    user = request.user
    return {
        "case": case,
        "loan": case.loan,
        "targets": targets,
        "overdue_installments": overdue,
        "overdue_total": format_fen(services.overdue_amount(case.loan)),
        "attempts": case.attempts.select_related("actor")[:50],
        "promises": case.promises.all()[:20],
        "letters": case.letters.all(),
        "dnc": DoNotContact.objects.filter(customer=case.customer),
        "script": services.script_for(case.tier),
        "contact_form": forms.get("contact_form") or ContactForm(targets=targets),
        "promise_form": forms.get("promise_form") or PromiseForm(),
        "dnc_form": forms.get("dnc_form") or DoNotContactForm(targets=targets),
        "reassign_form": ReassignForm() if user.has_perm("collections.manage_cases") else None,
        "can_contact": user.has_perm("collections.contact_case") and case.is_open,
    }


@login_required
@permission_required("collections.view_collectioncase", raise_exception=True)
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get(request.user, pk)
    return render(request, "collections/case_detail.html", _detail_context(request, case))


def _case_form_post(
    request: HttpRequest,
    pk: int,
    form_class: Any,
    form_key: str,
    service: Any,
    success: str,
    with_targets: bool = False,
) -> HttpResponse:
    """The three case-page forms: validate, call one service, report; an invalid form is
    shown again on the case page (422)."""
    case = selectors.case_get(request.user, pk)
    extra = {"targets": services.contact_targets(case)} if with_targets else {}
    form = form_class(request.POST, **extra)
    if not form.is_valid():
        ctx = _detail_context(request, case, **{form_key: form})
        return render(request, "collections/case_detail.html", ctx, status=422)
    try:
        service(case=case, actor=request.user, **form.cleaned_data)
    except CollectionsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect("collections:case_detail", pk=case.pk)


@login_required
@permission_required("collections.contact_case", raise_exception=True)
@require_POST
def case_contact(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_form_post(
        request,
        pk,
        ContactForm,
        "contact_form",
        services.contact_log,
        _("联系记录已保存。"),
        with_targets=True,
    )


@login_required
@permission_required("collections.contact_case", raise_exception=True)
@require_POST
def case_promise(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_form_post(
        request, pk, PromiseForm, "promise_form", services.promise_create, _("还款承诺已登记。")
    )


@login_required
@permission_required("collections.contact_case", raise_exception=True)
@require_POST
def case_dnc(request: HttpRequest, pk: int) -> HttpResponse:
    return _case_form_post(
        request,
        pk,
        DoNotContactForm,
        "dnc_form",
        services.dnc_create,
        _("拒绝联系已登记，系统将禁止电话和短信。"),
        with_targets=True,
    )


@login_required
@permission_required("collections.manage_cases", raise_exception=True)
@require_POST
def case_reassign(request: HttpRequest, pk: int) -> HttpResponse:
    case = selectors.case_get(request.user, pk)
    form = ReassignForm(request.POST)
    if form.is_valid():
        try:
            services.case_reassign(
                case=case, assignee=form.cleaned_data["assignee"], actor=request.user
            )
        except CollectionsError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("案件已改派。"))
    else:
        messages.error(request, _("请选择催收员。"))
    return redirect("collections:case_detail", pk=case.pk)


@login_required
@permission_required("collections.view_collectioncase", raise_exception=True)
def letter_download(request: HttpRequest, pk: int) -> HttpResponse:
    letter = LawyerLetter.objects.filter(pk=pk).first()
    if letter is None:
        raise Http404
    selectors.case_get(request.user, letter.case_id)
    data = services.letter_pdf(letter=letter, actor=request.user)
    resp = HttpResponse(data, content_type="application/pdf")
    resp["Content-Disposition"] = f'attachment; filename="lawyer-letter-{letter.case_id}.pdf"'
    return resp
