from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from credo.core.audit.forms import AuditFilterForm
from credo.core.audit.models import AuditEntry
from credo.core.audit.selectors import audit_facets, audit_search

PAGE_SIZE = 50


@login_required
@permission_required("audit.view_audit_log", raise_exception=True)
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    entries = audit_search(**filters) if not form.errors else AuditEntry.objects.none()
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/log.html",
        {"form": form, "page": page, "facets": audit_facets(), "query": query.urlencode()},
    )


@login_required
@permission_required("audit.view_audit_log", raise_exception=True)
def audit_detail(request: HttpRequest, seq: int) -> HttpResponse:
    entry = get_object_or_404(AuditEntry, seq=seq)
    return render(request, "audit/detail.html", {"entry": entry})
