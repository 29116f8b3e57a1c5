from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from credo.core.audit.forms import AuditFilterForm
from credo.core.audit.models import AuditEntry
from credo.core.audit.selectors import audit_facets, audit_search
from credo.core.audit.services import audit_lag, mask_kinds_for, mask_sensitive

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
        {
            "form": form,
            "page": page,
            "facets": audit_facets(),
            "query": query.urlencode(),
            "lag": audit_lag(),
        },
    )


@login_required
@permission_required("audit.view_audit_log", raise_exception=True)
def audit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(AuditEntry, pk=pk)
    return render(request, "audit/detail.html", {"entry": entry, "rows": change_rows(entry)})


@login_required
@permission_required("audit.view_audit_log", raise_exception=True)
def audit_detail_by_seq(request: HttpRequest, seq: int) -> HttpResponse:
    entry = get_object_or_404(AuditEntry, seq=seq)
    return redirect("audit:detail", pk=entry.pk)


def change_rows(entry: AuditEntry) -> list[tuple[str, Any, Any]]:
    """(field, before, after) for every recorded change, whatever shape the service wrote:
    ``{"before": x, "after": y}``, a ``[before, after]`` pair (e.g. ``lead.create`` records
    ``[None, value]``), or a bare value (shown as the value after). Sensitive values are masked
    again for display, so rows written before masking moved into ``audit_record`` stay masked.
    """
    changes = mask_sensitive(entry.changes or {}, mask_kinds_for(entry.object_type))
    if not isinstance(changes, dict):
        return [("", None, changes)]
    rows: list[tuple[str, Any, Any]] = []
    for name, change in changes.items():
        if isinstance(change, dict) and set(change) <= {"before", "after"} and change:
            rows.append((name, change.get("before"), change.get("after")))
        elif isinstance(change, list | tuple) and len(change) == 2:
            rows.append((name, change[0], change[1]))
        else:
            rows.append((name, None, change))
    return rows
