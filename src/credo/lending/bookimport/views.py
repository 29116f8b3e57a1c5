"""上传存量贷款: upload → preview (a dry run: what would be created, per-row errors, the
reconciliation) → confirm (re-checks the file's sha256) → the reconciliation page / Excel."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from credo.core.forms import IsoDateField, style_form
from credo.lending.bookimport import reading, services
from credo.lending.errors import LendingError
from credo.lending.models import BookImport

MAX_UPLOAD = 50 * 1024 * 1024
_SHA = re.compile(r"^[0-9a-f]{64}$")


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("存量贷款文件（.xlsx）"))
    as_of = IsoDateField(
        label=gettext_lazy("追溯至"),
        required=False,
        help_text=gettext_lazy("补跑日终至该日（默认昨天）"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].widget.attrs["accept"] = ".xlsx"
        style_form(self)


def _allowed(request: HttpRequest) -> None:
    try:
        services.require_import(request.user)
    except LendingError as exc:
        raise PermissionDenied(exc.message) from exc


def _pending_path(sha: str) -> Path:
    # the uploaded file between its preview and the confirmation, named by its sha256
    return Path(settings.DATA_DIR) / "bookimport" / f"{sha}.xlsx"


@login_required
def book_imports(request: HttpRequest) -> HttpResponse:
    _allowed(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        if upload.size and upload.size > MAX_UPLOAD:
            form.add_error("file", _("文件不能超过 50 MB。"))
        else:
            data = upload.read()
            try:
                out = services.book_import(
                    data=data,
                    filename=upload.name or "book.xlsx",
                    actor=request.user,
                    as_of=form.cleaned_data.get("as_of"),
                    dry_run=True,
                )
            except LendingError as exc:
                form.add_error("file", exc.message)
            else:
                if out.status == "preview":
                    path = _pending_path(out.sha256)
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(data)
                return render(request, "lending/book_preview.html", _preview_context(out))
    page = Paginator(BookImport.objects.select_related("actor").order_by("-id"), 20).get_page(
        request.GET.get("page")
    )
    return render(request, "lending/book_imports.html", {"form": form, "page": page})


def _recon_context(recon: dict[str, Any]) -> dict[str, Any]:
    counts = recon.get("counts") or {}
    return {
        "recon": recon,
        "count_items": [(k, _(label), counts.get(k, 0)) for k, label in services.COUNT_LABELS],
        "summary_items": [(k, _(label), recon.get(k, "")) for k, label in services.SUMMARY_LABELS],
        "per_loan": _per_loan_rows(recon),
        "per_loan_total": len(recon.get("per_loan") or []),
    }


def _preview_context(out: services.ImportOutcome) -> dict[str, Any]:
    return {"out": out, **_recon_context(out.reconciliation)}


def _per_loan_rows(recon: dict[str, Any], limit: int = 500) -> list[dict[str, Any]]:
    rows = recon.get("per_loan") or []
    # differences first: they are what the migration team has to explain
    rows = sorted(rows, key=lambda r: (r.get("difference") in (None, "0.00"), r["loan_number"]))
    return rows[:limit]


@login_required
@require_POST
def book_import_confirm(request: HttpRequest) -> HttpResponse:
    _allowed(request)
    sha = (request.POST.get("sha256") or "").strip().lower()
    name = (request.POST.get("file_name") or "book.xlsx").strip()[:200]
    try:
        as_of = dt.date.fromisoformat(request.POST.get("as_of") or "")
    except ValueError:
        as_of = None
    path = _pending_path(sha) if _SHA.match(sha) else None
    if path is None or not path.is_file():
        messages.error(request, _("预览的文件已失效，请重新上传。"))
        return redirect("lending:book_imports")
    data = path.read_bytes()
    try:
        out = services.book_import(
            data=data, filename=name, actor=request.user, as_of=as_of, expected_sha256=sha
        )
    except LendingError as exc:
        messages.error(request, exc.message)
        return redirect("lending:book_imports")
    if out.status == "imported":
        path.unlink(missing_ok=True)
        messages.success(
            request,
            _("已导入 %(n)s 笔贷款、%(r)s 笔还款。")
            % {"n": out.counts.get("loans_new", 0), "r": out.counts.get("repayments_new", 0)},
        )
        return redirect("lending:book_import_detail", pk=out.book_import_id)
    if out.status == "unchanged":
        path.unlink(missing_ok=True)
        messages.info(request, _("文件中的贷款均已导入且未变化，本次未写入任何数据。"))
        return redirect("lending:book_imports")
    return render(request, "lending/book_preview.html", _preview_context(out))


@login_required
def book_import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    _allowed(request)
    record = get_object_or_404(BookImport.objects.select_related("actor"), pk=pk)
    recon = record.reconciliation or {}
    return render(
        request,
        "lending/book_import_detail.html",
        {"record": record, **_recon_context(recon)},
    )


@login_required
def book_import_xlsx(request: HttpRequest, pk: int) -> HttpResponse:
    _allowed(request)
    record = get_object_or_404(BookImport, pk=pk)
    response = HttpResponse(
        services.reconciliation_xlsx(record.reconciliation or {}, title=record.file_name),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = f'attachment; filename="book_reconciliation_{record.pk}.xlsx"'
    return response


@login_required
def book_template(request: HttpRequest) -> HttpResponse:
    _allowed(request)
    response = HttpResponse(
        reading.template_xlsx(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    response["Content-Disposition"] = 'attachment; filename="book_import_template.xlsx"'
    return response
