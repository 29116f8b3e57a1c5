"""Pages of custom records: the record type designer (表单设计) and the generated list, detail
and phone-friendly fill-in pages of every record type. Thin: parse, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.records import forms, schema, selectors, services
from credo.records.errors import RecordsError
from credo.records.models import AttachedTo, CustomRecord, RecordFile, RecordType

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_LIMIT = 10_000


def _roles() -> list[Any]:
    from credo.accounts.models import Role

    return list(Role.objects.order_by("id"))


# --- record type designer -----------------------------------------------------------------------------
@login_required
@permission_required("records.manage_recordtype", raise_exception=True)
def type_list(request: HttpRequest) -> HttpResponse:
    types = RecordType.objects.prefetch_related("versions").order_by("name", "id")
    rows = [(t, selectors.current_version(t), t.records.count()) for t in types]
    return render(request, "records/type_list.html", {"rows": rows})


def _designer_context(
    request: HttpRequest,
    rt: RecordType | None,
    *,
    fields: list[dict[str, Any]],
    head: dict[str, Any],
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    errors = errors or {}
    return {
        "rt": rt,
        "head": head,
        "rows": forms.designer_rows(fields, errors),
        "errors": errors,
        "general_errors": [v for k, v in errors.items() if not k[:1].isdigit()],
        "types": [(k, schema.TYPE_LABELS[k]) for k in schema.TYPES],
        "column_types": [(k, schema.TYPE_LABELS[k]) for k in schema.SCALAR_TYPES],
        "result_types": [(k, schema.TYPE_LABELS[k]) for k in schema.RESULT_TYPES],
        "roles": _roles(),
        "attached_choices": AttachedTo.choices,
        "blank_rows": range(len(fields) + 1, len(fields) + (3 if fields else 4)),
    }


def _head_from_post(request: HttpRequest) -> dict[str, Any]:
    p = request.POST
    return {
        "code": p.get("code", "").strip(),
        "name": p.get("name", "").strip(),
        "description": p.get("description", "").strip(),
        "attached_to": p.get("attached_to", ""),
        "view_roles": p.getlist("view_roles"),
        "edit_roles": p.getlist("edit_roles"),
        "note": p.get("note", "").strip(),
    }


@login_required
@permission_required("records.manage_recordtype", raise_exception=True)
def type_create(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        head = _head_from_post(request)
        fields = forms.designer_rows_from_post(request.POST)
        try:
            rt = services.record_type_create(fields=fields, actor=request.user, **head)
        except RecordsError as exc:
            messages.error(request, exc.message)
            ctx = _designer_context(request, None, fields=fields, head=head, errors=exc.errors)
            return render(request, "records/type_form.html", ctx, status=400)
        messages.success(request, _("已保存草稿，发布后即可填写。"))
        return redirect("records:type_detail", rt.pk)
    head = {"attached_to": request.GET.get("attached_to", "customer")}
    ctx = _designer_context(request, None, fields=[], head=head)
    return render(request, "records/type_form.html", ctx)


@login_required
@permission_required("records.manage_recordtype", raise_exception=True)
def type_edit(request: HttpRequest, pk: int) -> HttpResponse:
    rt = get_object_or_404(RecordType.objects.prefetch_related("versions"), pk=pk)
    if request.method == "POST":
        head = _head_from_post(request)
        fields = forms.designer_rows_from_post(request.POST)
        try:
            services.record_type_update(
                record_type=rt,
                actor=request.user,
                fields=fields,
                name=head["name"],
                description=head["description"],
                view_roles=head["view_roles"],
                edit_roles=head["edit_roles"],
                note=head["note"],
            )
        except RecordsError as exc:
            messages.error(request, exc.message)
            ctx = _designer_context(request, rt, fields=fields, head=head, errors=exc.errors)
            return render(request, "records/type_form.html", ctx, status=400)
        messages.success(request, _("已保存为草稿版本。"))
        return redirect("records:type_detail", rt.pk)
    draft = rt.versions.filter(status="draft").first() or selectors.current_version(rt)
    head = {
        "code": rt.code,
        "name": rt.name,
        "description": rt.description,
        "attached_to": rt.attached_to,
        "view_roles": draft.view_roles if draft else [],
        "edit_roles": draft.edit_roles if draft else [],
        "note": "",
    }
    ctx = _designer_context(request, rt, fields=list(draft.fields) if draft else [], head=head)
    return render(request, "records/type_form.html", ctx)


@login_required
@permission_required("records.manage_recordtype", raise_exception=True)
def type_detail(request: HttpRequest, pk: int) -> HttpResponse:
    rt = get_object_or_404(RecordType, pk=pk)
    versions = list(rt.versions.order_by("-number"))
    draft = next((v for v in versions if v.status == "draft"), None)
    shown = draft or selectors.current_version(rt)
    return render(
        request,
        "records/type_detail.html",
        {
            "rt": rt,
            "versions": versions,
            "draft": draft,
            "shown": shown,
            "shown_fields": [
                {**d, "type_label": schema.TYPE_LABELS.get(d["type"], d["type"])}
                for d in (shown.fields if shown else [])
            ],
            "published": rt.published_version(),
        },
    )


@login_required
@permission_required("records.manage_recordtype", raise_exception=True)
@require_POST
def type_publish(request: HttpRequest, pk: int) -> HttpResponse:
    rt = get_object_or_404(RecordType, pk=pk)
    draft = rt.versions.filter(status="draft").first()
    if draft is None:
        messages.error(request, _("没有可发布的草稿。"))
        return redirect("records:type_detail", rt.pk)
    try:
        services.record_type_publish(version=draft, actor=request.user)
    except RecordsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已发布第 %(n)s 版。") % {"n": draft.number})
    return redirect("records:type_detail", rt.pk)


@login_required
@permission_required("records.manage_recordtype", raise_exception=True)
@require_POST
def type_retire(request: HttpRequest, pk: int) -> HttpResponse:
    rt = get_object_or_404(RecordType, pk=pk)
    try:
        services.record_type_retire(record_type=rt, actor=request.user)
    except RecordsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已停用，不能再新建该表单的记录。"))
    return redirect("records:type_detail", rt.pk)


# --- records -----------------------------------------------------------------------------------------
@login_required
@permission_required("records.view_customrecord", raise_exception=True)
def home(request: HttpRequest) -> HttpResponse:
    types = selectors.types_for(request.user)
    base = selectors.records_for(request.user)
    counts = {
        row["record_type"]: row["n"]
        for row in base.values("record_type").order_by().annotate(n=Count("id"))
    }
    rows = [(t, selectors.current_version(t), counts.get(t.pk, 0)) for t in types]
    return render(request, "records/home.html", {"rows": rows})


def _visible_type(request: HttpRequest, code: str) -> RecordType:
    rt = RecordType.objects.prefetch_related("versions").filter(code=code).first()
    if rt is None or not selectors.can_view_type(request.user, rt):
        raise Http404
    return rt


def _parent_label(record: CustomRecord) -> str:
    parent = record.parent
    if record.customer_id:
        return str(parent.name)
    customer = getattr(parent, "customer", None)
    return f"{parent.number} · {customer.name if customer else ''}"


def _parent_url(record: CustomRecord) -> str:
    if record.customer_id:
        return reverse("customers:detail", args=[record.customer_id])
    if record.application_id:
        return reverse("origination:detail", args=[record.application_id])
    return reverse("lending:loan_detail", args=[record.loan_id])


@login_required
@permission_required("records.view_customrecord", raise_exception=True)
def record_list(request: HttpRequest, code: str) -> HttpResponseBase:
    rt = _visible_type(request, code)
    version = selectors.current_version(rt)
    params = request.GET.dict()
    qs = selectors.record_list(request.user, rt, params)
    columns = selectors.list_fields(version, request.user) if version else []
    if request.GET.get("format") == "xlsx":
        return _export(request, rt, qs)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    rows = [
        {
            "record": r,
            "parent": _parent_label(r),
            "cells": [(c["label"], schema.display(c, r.values.get(c["key"]))) for c in columns],
        }
        for r in page.object_list
    ]
    published = rt.published_version()
    return render(
        request,
        "records/record_list.html",
        {
            "rt": rt,
            "page": page,
            "rows": rows,
            "columns": columns,
            "filters": [
                {**d, "current": params.get(f"f_{d['key']}", "")}
                for d in (selectors.filter_fields(version, request.user) if version else [])
            ],
            "params": params,
            "can_add": bool(
                published
                and request.user.has_perm("records.add_customrecord")
                and selectors.can_fill_type(request.user, published)
            ),
        },
    )


def _export(request: HttpRequest, rt: RecordType, qs: Any) -> HttpResponse:
    """Excel through the project's spreadsheet writer (formula-like text neutralized); the
    columns are the current version's visible fields, every record in the user's scope."""
    from openpyxl import Workbook

    from credo.core import spreadsheet

    viewer = schema.Viewer.of(request.user)
    version = selectors.current_version(rt)
    fields = [d for d in (version.fields if version else []) if viewer.can_view(d)]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=rt.name[:30] or "records")
    header = [
        _("记录编号"),
        _("挂接对象"),
        *[d["label"] for d in fields],
        _("填写人"),
        _("填写时间"),
    ]
    spreadsheet.append(ws, header)
    count = 0
    for r in qs[:EXPORT_LIMIT]:
        version_fields = {d["key"]: d for d in r.version.fields}
        values = []
        for d in fields:
            own = version_fields.get(d["key"], d)
            values.append(schema.export_value(own, r.values.get(d["key"])))
        spreadsheet.append(
            ws,
            [
                r.number,
                _parent_label(r),
                *values,
                str(r.created_by or ""),
                timezone.localtime(r.created_at).replace(tzinfo=None),
            ],
        )
        count += 1
    audit_record(
        action="records.export",
        actor=request.user,
        object_type="records.recordtype",
        object_id=rt.pk,
        object_repr=rt.name,
        metadata={"rows": count, "filters": request.GET.dict()},
    )
    response = HttpResponse(spreadsheet.workbook_bytes(wb), content_type=XLSX)
    response["Content-Disposition"] = (
        f'attachment; filename="records-{rt.code}-{clock.today():%Y%m%d}.xlsx"'
    )
    return response


def _files_of(record: CustomRecord | None) -> dict[int, RecordFile]:
    if record is None:
        return {}
    return {f.pk: f for f in record.files.all()}


@login_required
@permission_required("records.view_customrecord", raise_exception=True)
def record_detail(request: HttpRequest, pk: int) -> HttpResponse:
    record = selectors.record_get(request.user, pk)
    if record is None:
        raise Http404
    viewer = schema.Viewer.of(request.user)
    files = _files_of(record)
    fields = forms.widgets(record.version.fields, viewer, stored=record.values, files=files)
    return render(
        request,
        "records/record_detail.html",
        {
            "record": record,
            "fields": fields,
            "parent_label": _parent_label(record),
            "parent_url": _parent_url(record),
            "can_edit": request.user.has_perm("records.change_customrecord")
            and selectors.can_fill_type(request.user, record.version),
        },
    )


def _find_parent(request: HttpRequest, rt: RecordType) -> Any:
    """The parent named by ``?customer=``/``?application=``/``?loan=`` (or the POST), inside
    the user's data scope; None when absent."""
    raw = request.POST.get("parent") or request.GET.get(rt.attached_to) or ""
    if not raw.isdigit():
        return None
    if rt.attached_to == "customer":
        from credo.customers.selectors import customers_for

        return customers_for(request.user).filter(pk=int(raw)).first()
    if rt.attached_to == "application":
        from credo.origination.selectors import applications_for

        return applications_for(request.user).filter(pk=int(raw)).first()
    from credo.lending.selectors import loans_for

    return loans_for(request.user).filter(pk=int(raw)).first()


def _parent_search(request: HttpRequest, rt: RecordType) -> list[tuple[int, str]]:
    q = request.GET.get("q", "").strip()
    if rt.attached_to == "customer":
        from credo.customers.selectors import customers_for

        qs = customers_for(request.user).order_by("-id")
        if q:
            qs = qs.filter(name__icontains=q)
        return [(c.pk, c.name) for c in qs[:20]]
    if rt.attached_to == "application":
        from credo.origination.selectors import applications_for

        aqs = applications_for(request.user).select_related("customer").order_by("-id")
        if q:
            aqs = aqs.filter(number__icontains=q) | aqs.filter(customer__name__icontains=q)
        return [(a.pk, f"{a.number} · {a.customer.name}") for a in aqs[:20]]
    from credo.lending.selectors import loans_for

    lqs = loans_for(request.user).select_related("customer").order_by("-id")
    if q:
        lqs = lqs.filter(number__icontains=q) | lqs.filter(customer__name__icontains=q)
    return [(loan.pk, f"{loan.number} · {loan.customer.name}") for loan in lqs[:20]]


@login_required
@permission_required("records.add_customrecord", raise_exception=True)
def record_create(request: HttpRequest, code: str) -> HttpResponse:
    rt = _visible_type(request, code)
    version = rt.published_version()
    if version is None or not selectors.can_fill_type(request.user, version):
        messages.error(request, _("该表单尚未发布或您的角色不能填写。"))
        return redirect("records:list", rt.code)
    parent = _find_parent(request, rt)
    if parent is None:
        return render(
            request,
            "records/pick_parent.html",
            {"rt": rt, "found": _parent_search(request, rt), "q": request.GET.get("q", "")},
        )
    viewer = schema.Viewer.of(request.user)
    posted: dict[str, Any] | None = None
    errors: dict[str, str] = {}
    if request.method == "POST":
        raw, uploads, _removed = forms.raw_from_post(version.fields, request, viewer)
        try:
            record = services.record_create(
                record_type=rt,
                values=raw,
                actor=request.user,
                uploads=uploads,
                strict=False,
                **{rt.attached_to: parent},
            )
        except RecordsError as exc:
            if not exc.errors:  # field errors are shown on the form itself
                messages.error(request, exc.message)
            posted, errors = raw, exc.errors
        else:
            messages.success(request, _("已保存 %(n)s。") % {"n": record.number})
            return redirect("records:detail", record.pk)
    return render(
        request,
        "records/record_form.html",
        {
            "rt": rt,
            "version": version,
            "parent": parent,
            "parent_name": getattr(parent, "name", None) or str(parent),
            "fields": forms.widgets(version.fields, viewer, posted=posted, errors=errors),
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@login_required
@permission_required("records.change_customrecord", raise_exception=True)
def record_edit(request: HttpRequest, pk: int) -> HttpResponse:
    record = selectors.record_get(request.user, pk)
    if record is None:
        raise Http404
    version = record.version
    if not selectors.can_fill_type(request.user, version):
        raise Http404
    viewer = schema.Viewer.of(request.user)
    posted: dict[str, Any] | None = None
    errors: dict[str, str] = {}
    if request.method == "POST":
        raw, uploads, removed = forms.raw_from_post(version.fields, request, viewer)
        try:
            services.record_update(
                record=record,
                values=raw,
                actor=request.user,
                uploads=uploads,
                removed=removed,
                strict=False,
            )
        except RecordsError as exc:
            if not exc.errors:  # field errors are shown on the form itself
                messages.error(request, exc.message)
            posted, errors = raw, exc.errors
        else:
            messages.success(request, _("已保存。"))
            return redirect("records:detail", record.pk)
    return render(
        request,
        "records/record_form.html",
        {
            "rt": record.record_type,
            "version": version,
            "record": record,
            "parent": record.parent,
            "parent_name": _parent_label(record),
            "fields": forms.widgets(
                version.fields,
                viewer,
                stored=record.values,
                posted=posted,
                errors=errors,
                files=_files_of(record),
            ),
            "errors": errors,
        },
        status=400 if errors else 200,
    )


@login_required
@permission_required("records.view_customrecord", raise_exception=True)
def file_download(request: HttpRequest, pk: int) -> HttpResponseBase:
    from credo.origination import documents

    f = get_object_or_404(RecordFile.objects.select_related("record__version"), pk=pk)
    record = selectors.record_get(request.user, f.record_id)
    if record is None:
        raise Http404
    d = next((d for d in record.version.fields if d["key"] == f.field_key), None)
    if d is None or not schema.Viewer.of(request.user).can_view(d):
        raise Http404
    path = documents.path_of(f.stored_name)
    if not path.exists():
        raise Http404
    response = FileResponse(path.open("rb"), content_type=f.content_type)
    disposition = "inline" if f.is_image else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="file-{f.pk}{path.suffix}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
