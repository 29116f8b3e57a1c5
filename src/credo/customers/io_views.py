"""Import (upload → preview with row errors → confirm) and Excel export of customers."""

from __future__ import annotations

import uuid
from pathlib import Path, PurePath

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.core import uploads
from credo.customers import selectors
from credo.customers.errors import CustomerError
from credo.customers.exporting import export_xlsx
from credo.customers.importing import parse_file, preview, run_import, template_xlsx

MAX_IMPORT_BYTES = 20 * 1024 * 1024
SESSION_KEY = "customer_import"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ERRORS_SHOWN = 200


def _stored(request: HttpRequest) -> tuple[Path, str] | None:
    # The upload holds personal data in clear: a private 0600 file outside the web root,
    # deleted after the import, on a new upload, and after CREDO_IMPORT_FILE_TTL_HOURS.
    info = request.session.get(SESSION_KEY)
    if not info:
        return None
    path = uploads.private_path(str(info.get("file", "")))
    if path is None or not path.exists():
        return None
    if uploads.is_expired(path):
        path.unlink(missing_ok=True)
        request.session.pop(SESSION_KEY, None)
        return None
    return path, info["name"]


@login_required
@permission_required("customers.import_customers", raise_exception=True)
def import_upload(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择要导入的文件。"))
            return redirect("customers:import")
        upload_name = upload.name or ""
        suffix = PurePath(upload_name).suffix.lower()
        if suffix not in (".xlsx", ".csv"):
            messages.error(request, _("只支持 .xlsx 或 .csv 文件。"))
            return redirect("customers:import")
        if (upload.size or 0) > MAX_IMPORT_BYTES:
            messages.error(request, _("文件不能超过 20 MB。"))
            return redirect("customers:import")
        previous = request.session.get(SESSION_KEY) or {}
        if previous.get("file"):
            uploads.discard(str(previous["file"]))  # a replaced upload is never imported
        name = f"customer-import-{uuid.uuid4().hex}{suffix}"
        uploads.write_private(name, upload.chunks())
        request.session[SESSION_KEY] = {"file": name, "name": upload_name[:120]}
        return redirect("customers:import_preview")
    return render(request, "customers/import.html")


@login_required
@permission_required("customers.import_customers", raise_exception=True)
def import_preview(request: HttpRequest) -> HttpResponse:
    stored = _stored(request)
    if stored is None:
        messages.error(request, _("导入文件已失效，请重新上传。"))
        return redirect("customers:import")
    path, name = stored
    try:
        rows = parse_file(path, name)
        result = preview(rows, actor=request.user)
    except CustomerError as exc:
        messages.error(request, exc.message)
        return redirect("customers:import")
    return render(
        request,
        "customers/import_preview.html",
        {
            "name": name,
            "result": result,
            "errors": result.errors[:ERRORS_SHOWN],
            "more_errors": max(0, len(result.errors) - ERRORS_SHOWN),
            "error_rows": len(result.error_rows),
        },
    )


@login_required
@permission_required("customers.import_customers", raise_exception=True)
@require_POST
def import_confirm(request: HttpRequest) -> HttpResponse:
    stored = _stored(request)
    if stored is None:
        messages.error(request, _("导入文件已失效，请重新上传。"))
        return redirect("customers:import")
    mode = request.POST.get("mode")
    if mode not in ("all_or_nothing", "valid_only"):
        messages.error(request, _("请选择导入方式。"))
        return redirect("customers:import_preview")
    path, name = stored
    try:
        result = run_import(parse_file(path, name), actor=request.user, mode=mode, filename=name)
    except CustomerError as exc:
        messages.error(request, exc.message)
        return redirect("customers:import_preview")
    path.unlink(missing_ok=True)
    request.session.pop(SESSION_KEY, None)
    if result.created:
        messages.success(
            request,
            _("导入完成：新建 %(n)s 位客户，跳过 %(s)s 行。")
            % {"n": result.created, "s": result.skipped},
        )
    else:
        messages.warning(
            request,
            _("未导入任何客户：文件中有 %(e)s 处错误（全部成功才导入）。")
            % {"e": len(result.errors)},
        )
    return redirect("customers:list")


@login_required
@permission_required("customers.import_customers", raise_exception=True)
def import_template(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(template_xlsx(request.user), content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''customer-import-template.xlsx"
    return response


@login_required
@permission_required("customers.export_customers", raise_exception=True)
def export(request: HttpRequest) -> HttpResponse:
    qs = selectors.customer_list(request.user, request.GET, purpose="export")
    data = export_xlsx(qs, request.user)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''customers-{stamp}.xlsx"
    return response
