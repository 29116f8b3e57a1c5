"""Staff side: the borrower requests (提前还款 / 续贷申请) of customers in the user's data scope,
受理 or 拒绝 with a note. Staff login (django.contrib.auth) and permission
``borrower.review_borrowerrequest``."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from credo.borrower import selectors, services
from credo.borrower.errors import BorrowerError
from credo.borrower.models import BorrowerRequest

PERM = "borrower.review_borrowerrequest"


@login_required
@permission_required(PERM, raise_exception=True)
def request_list(request: HttpRequest) -> HttpResponse:
    params = request.GET.dict()
    params.setdefault("status", "submitted")
    qs = selectors.staff_requests(request.user, params)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "borrower/staff_list.html",
        {
            "page": page,
            "status": params.get("status"),
            "kind": params.get("kind", ""),
            "statuses": BorrowerRequest.Status.choices,
            "kinds": BorrowerRequest.Kind.choices,
        },
    )


def _get(request: HttpRequest, pk: int) -> BorrowerRequest:
    try:
        return selectors.staff_requests(request.user, {"status": "all"}).get(pk=pk)
    except BorrowerRequest.DoesNotExist:
        raise Http404 from None


@login_required
@permission_required(PERM, raise_exception=True)
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    req = _get(request, pk)
    return render(request, "borrower/staff_detail.html", {"req": req})


@require_POST
@login_required
@permission_required(PERM, raise_exception=True)
def request_decide(request: HttpRequest, pk: int) -> HttpResponse:
    req = _get(request, pk)
    try:
        services.request_decide(
            request=req,
            actor=request.user,
            accept=request.POST.get("decision") == "accept",
            note=request.POST.get("note", ""),
        )
    except BorrowerError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"申请 {req.number} 已处理。")
    return redirect("borrower_staff:detail", pk=req.pk)
