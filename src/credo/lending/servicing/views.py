"""Pages of the servicing approvals: thin — parse, call one service, render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.ui.params import query_params
from credo.lending import selectors as lending_selectors
from credo.lending.errors import LendingError
from credo.lending.models import Loan
from credo.lending.servicing import selectors, services
from credo.lending.servicing.forms import (
    ClassificationRequestForm,
    DecisionForm,
    WaiverRequestForm,
)
from credo.lending.servicing.models import RequestStatus
from credo.lending.states import LOAN_OPEN_STATES

HISTORY_PAGE = 10
LIST_PAGE = 20


def _any_perm(user: Any, *perms: str) -> None:
    if not any(user.has_perm(p) for p in perms):
        raise PermissionDenied


def _owed_rows(owed: dict[str, int], components: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {"comp": c, "label": services.component_label(c), "fen": owed.get(c, 0)} for c in components
    ]


# ---------------------------------------------------------------- loan page panel


@login_required
@permission_required("lending.view_loan", raise_exception=True)
def loan_panel(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: the servicing panel of the loan page — 五级分类历史 (paginated) and the loan's
    waiver and classification requests, with the request buttons the user may use."""
    loan = lending_selectors.loan_get(request.user, pk)
    history = selectors.class_history(loan)
    page = Paginator(history, HISTORY_PAGE).get_page(request.GET.get("page"))
    rows = [
        {
            "h": h,
            "from": Loan.Classification(h.from_class).label if h.from_class else "—",
            "to": Loan.Classification(h.to_class).label if h.to_class else "—",
            "reason": selectors.reason_label(str(h.reason)),
        }
        for h in page.object_list
    ]
    user = request.user
    is_open = loan.status in LOAN_OPEN_STATES
    return render(
        request,
        "lending/servicing/loan_panel.html",
        {
            "loan": loan,
            "page": page,
            "rows": rows,
            "waivers": services.WaiverRequest.objects.filter(loan=loan)
            .select_related("requested_by", "decided_by")
            .order_by("-id")[:10],
            "class_requests": services.ClassificationRequest.objects.filter(loan=loan)
            .select_related("requested_by", "decided_by")
            .order_by("-id")[:10],
            "can_request_waiver": is_open and user.has_perm(services.REQUEST_WAIVER),
            "can_request_class": is_open and user.has_perm(services.REQUEST_CLASS),
            "floor": getattr(loan, "classification_floor", ""),
            "floor_until": getattr(loan, "classification_floor_until", None),
        },
    )


# ---------------------------------------------------------------- 罚息减免


@login_required
@permission_required(services.REQUEST_WAIVER, raise_exception=True)
def waiver_new(request: HttpRequest, pk: int) -> HttpResponse:
    loan = lending_selectors.loan_get(request.user, pk)
    components = services.waivable_components()
    form = WaiverRequestForm(
        request.POST or None,
        request.FILES or None,
        components=components,
        initial={"value_date": clock.today()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            req = services.waiver_request_create(
                loan=loan,
                actor=request.user,
                amounts=form.amounts(),
                value_date=data["value_date"],
                reason=data["reason"],
                attachment=data.get("attachment"),
            )
        except LendingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("减免申请已提交，等待审批。"))
            return redirect("lending:servicing:waiver_detail", pk=req.pk)
    value_date = clock.today()
    if form.is_bound and form.is_valid():
        value_date = form.cleaned_data["value_date"]
    owed = services.owed_at(loan, value_date)
    return render(
        request,
        "lending/servicing/waiver_form.html",
        {
            "loan": loan,
            "form": form,
            "owed": _owed_rows(owed, components),
            "value_date": value_date,
        },
    )


@login_required
@permission_required(services.REQUEST_WAIVER, raise_exception=True)
def waiver_owed(request: HttpRequest, pk: int) -> HttpResponse:
    """htmx: what is owed per waivable component at the value date in the form."""
    loan = lending_selectors.loan_get(request.user, pk)
    try:
        value_date = dt.date.fromisoformat(request.GET.get("value_date") or "")
    except ValueError:
        value_date = clock.today()
    owed = services.owed_at(loan, value_date)
    return render(
        request,
        "lending/servicing/_owed.html",
        {"owed": _owed_rows(owed, services.waivable_components()), "value_date": value_date},
    )


def _list(request: HttpRequest, rows: Any, template: str, extra: dict[str, Any]) -> HttpResponse:
    page = Paginator(rows, LIST_PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        template,
        {
            "page": page,
            "params": query_params(request),
            "status": request.GET.get("status", RequestStatus.REQUESTED),
            "statuses": RequestStatus.choices,
            **extra,
        },
    )


@login_required
def waiver_list(request: HttpRequest) -> HttpResponse:
    """减免审批: requests in the user's data scope (default: waiting)."""
    _any_perm(request.user, services.APPROVE_WAIVER, services.REQUEST_WAIVER)
    return _list(
        request,
        selectors.waiver_requests(request.user, request.GET),
        "lending/servicing/waiver_list.html",
        {},
    )


def _waiver_context(request: HttpRequest, req: Any) -> dict[str, Any]:
    user = request.user
    waiting = req.status == RequestStatus.REQUESTED
    amounts = [
        {
            "label": services.component_label(c),
            "fen": int(v),
            "owed": int(req.owed.get(c, 0)),
        }
        for c, v in req.amounts.items()
    ]
    limit = services.waiver_limit_for(user)
    return {
        "req": req,
        "loan": req.loan,
        "amounts": amounts,
        "can_decide": waiting
        and user.has_perm(services.APPROVE_WAIVER)
        and req.requested_by_id != user.pk,
        "over_limit": limit is not None and req.total.fen > limit,
        "limit": limit,
        "can_cancel": waiting and req.requested_by_id == user.pk,
        "decision_form": DecisionForm(),
    }


@login_required
def waiver_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _any_perm(request.user, services.APPROVE_WAIVER, services.REQUEST_WAIVER)
    req = selectors.waiver_request_get(request.user, pk)
    return render(request, "lending/servicing/waiver_detail.html", _waiver_context(request, req))


def _decide(request: HttpRequest, req: Any, fn: Any, ok: str, **kw: Any) -> None:
    try:
        fn(request=req, actor=request.user, **kw)
    except LendingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, ok)


@login_required
@require_POST
@permission_required(services.APPROVE_WAIVER, raise_exception=True)
def waiver_approve(request: HttpRequest, pk: int) -> HttpResponse:
    req = selectors.waiver_request_get(request.user, pk)
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    _decide(request, req, services.waiver_request_approve, _("已批准，减免已入账。"), note=note)
    return redirect("lending:servicing:waiver_detail", pk=req.pk)


@login_required
@require_POST
@permission_required(services.APPROVE_WAIVER, raise_exception=True)
def waiver_reject(request: HttpRequest, pk: int) -> HttpResponse:
    req = selectors.waiver_request_get(request.user, pk)
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    _decide(request, req, services.waiver_request_reject, _("已拒绝该减免申请。"), note=note)
    return redirect("lending:servicing:waiver_detail", pk=req.pk)


@login_required
@require_POST
def waiver_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    req = selectors.waiver_request_get(request.user, pk)
    _decide(request, req, services.waiver_request_cancel, _("已撤回该减免申请。"))
    return redirect("lending:servicing:waiver_detail", pk=req.pk)


@login_required
def waiver_attachment(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The attachment, to users who may see the request (each download audited)."""
    _any_perm(request.user, services.APPROVE_WAIVER, services.REQUEST_WAIVER)
    req = selectors.waiver_request_get(request.user, pk)
    if not req.attachment:
        raise Http404
    audit_record(action="waiver.attachment_read", actor=request.user, obj=req)
    name = (req.attachment.name or "").rsplit("/", 1)[-1]
    return FileResponse(req.attachment.open("rb"), as_attachment=True, filename=name)


# ---------------------------------------------------------------- 人工分类调整


@login_required
@permission_required(services.REQUEST_CLASS, raise_exception=True)
def class_new(request: HttpRequest, pk: int) -> HttpResponse:
    loan = lending_selectors.loan_get(request.user, pk)
    today = clock.today()
    form = ClassificationRequestForm(
        request.POST or None, initial={"until": services.default_until(today)}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            req = services.classification_request_create(
                loan=loan,
                actor=request.user,
                to_class=data["to_class"],
                reason=data["reason"],
                until=data.get("until"),
            )
        except LendingError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("分类调整申请已提交，等待审批。"))
            return redirect("lending:servicing:class_detail", pk=req.pk)
    upgrade = None
    if loan.classification in services.rules.NON_PERFORMING:
        check = services.upgrade_check(loan, today)
        upgrade = {"ok": check.ok, "why": "" if check.ok else services.upgrade_refusal(check)}
    return render(
        request,
        "lending/servicing/class_form.html",
        {"loan": loan, "form": form, "upgrade": upgrade},
    )


@login_required
def class_list(request: HttpRequest) -> HttpResponse:
    """分类调整审批."""
    _any_perm(request.user, services.APPROVE_CLASS, services.REQUEST_CLASS)
    return _list(
        request,
        selectors.class_requests(request.user, request.GET),
        "lending/servicing/class_list.html",
        {},
    )


@login_required
def class_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _any_perm(request.user, services.APPROVE_CLASS, services.REQUEST_CLASS)
    req = selectors.class_request_get(request.user, pk)
    user = request.user
    waiting = req.status == RequestStatus.REQUESTED
    upgrade = None
    if (
        waiting
        and req.loan.classification in services.rules.NON_PERFORMING
        and services.rules.is_upgrade(req.loan.classification, req.to_class)
    ):
        check = services.upgrade_check(req.loan, clock.today())
        upgrade = {"ok": check.ok, "why": "" if check.ok else services.upgrade_refusal(check)}
    return render(
        request,
        "lending/servicing/class_detail.html",
        {
            "req": req,
            "loan": req.loan,
            "upgrade": upgrade,
            "can_decide": waiting
            and user.has_perm(services.APPROVE_CLASS)
            and req.requested_by_id != user.pk,
            "can_cancel": waiting and req.requested_by_id == user.pk,
            "decision_form": DecisionForm(),
        },
    )


@login_required
@require_POST
@permission_required(services.APPROVE_CLASS, raise_exception=True)
def class_approve(request: HttpRequest, pk: int) -> HttpResponse:
    req = selectors.class_request_get(request.user, pk)
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    _decide(
        request,
        req,
        services.classification_request_approve,
        _("已批准，贷款五级分类已调整。"),
        note=note,
    )
    return redirect("lending:servicing:class_detail", pk=req.pk)


@login_required
@require_POST
@permission_required(services.APPROVE_CLASS, raise_exception=True)
def class_reject(request: HttpRequest, pk: int) -> HttpResponse:
    req = selectors.class_request_get(request.user, pk)
    form = DecisionForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    _decide(
        request, req, services.classification_request_reject, _("已拒绝该分类调整申请。"), note=note
    )
    return redirect("lending:servicing:class_detail", pk=req.pk)


@login_required
@require_POST
def class_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    req = selectors.class_request_get(request.user, pk)
    _decide(request, req, services.classification_request_cancel, _("已撤回该分类调整申请。"))
    return redirect("lending:servicing:class_detail", pk=req.pk)
