"""Pages of 征信报送: the months and submissions, a submission with its files and records, the
row-level error report, and the actions (generate, export, approve, mark submitted, withdraw,
check corrections). Thin: parse, call one service, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from credo.core.masking import mask_id_number
from credo.creditreport import services
from credo.creditreport.errors import CreditReportError
from credo.creditreport.models import CreditRecord, Submission, SubmissionFile
from credo.creditreport.writers import writers

MANAGE = "creditreport.manage"


def _manager(view: Any) -> Any:
    return login_required(permission_required(MANAGE, raise_exception=True)(view))


def _closed_months() -> list[Any]:
    from credo.lending.books.models import AccountingPeriod

    return list(
        AccountingPeriod.objects.filter(status=AccountingPeriod.Status.CLOSED)
        .order_by("-month")
        .values_list("month", flat=True)[:36]
    )


@_manager
def index(request: HttpRequest) -> HttpResponse:
    subs = Submission.objects.select_related("generated_by", "approved_by", "submitted_by")
    page = Paginator(subs, 30).get_page(request.GET.get("page"))
    live = {
        s.month: s
        for s in Submission.objects.exclude(status=Submission.Status.CANCELLED).only(
            "month", "status"
        )
    }
    months = [(m, live.get(m)) for m in _closed_months()]
    queued = services.queued_records().order_by("month", "id")
    return render(
        request,
        "creditreport/index.html",
        {
            "page": page,
            "months": months,
            "queued": queued[:50],
            "queued_count": queued.count(),
        },
    )


@_manager
@require_POST
def generate(request: HttpRequest) -> HttpResponse:
    try:
        month = services.parse_month(request.POST.get("month", ""))
        sub = services.submission_generate(month=month, actor=request.user)
    except CreditReportError as exc:
        messages.error(request, exc.message)
        return redirect("creditreport:index")
    messages.success(
        request,
        f"已生成 {sub.label} 的征信报送数据：{sub.counts.get('records', 0)} 条记录，"
        f"{sub.error_count} 条校验错误。",
    )
    return redirect("creditreport:detail", sub.pk)


@_manager
@require_POST
def corrections(request: HttpRequest) -> HttpResponse:
    from credo.lending.models import Loan

    number = (request.POST.get("loan") or "").strip()
    qs = CreditRecord.objects.exclude(submission__status=Submission.Status.CANCELLED)
    if number:
        loan = Loan.objects.filter(number=number).first()
        if loan is None:
            messages.error(request, f"找不到贷款 {number}。")
            return redirect("creditreport:index")
        qs = qs.filter(loan=loan)
    loan_ids = list(qs.values_list("loan_id", flat=True).distinct())
    try:
        counts = services.corrections_for_loans(loan_ids=loan_ids, actor=request.user)
    except CreditReportError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            f"已核对 {counts['checked']} 条已报送记录：新增更正 {counts['corrections']} 条、"
            f"删除 {counts['deletions']} 条，刷新未审核记录 {counts['refreshed']} 条。",
        )
    return redirect("creditreport:index")


def _record_rows(records: Any) -> list[tuple[CreditRecord, str]]:
    return [(r, mask_id_number(r.id_number or "")) for r in records]


@_manager
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    sub = get_object_or_404(
        Submission.objects.select_related("generated_by", "approved_by", "submitted_by"), pk=pk
    )
    kind = request.GET.get("kind", "")
    records = sub.records.select_related("loan").order_by("kind", "id")
    if kind:
        records = records.filter(kind=kind)
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "creditreport/detail.html",
        {
            "sub": sub,
            "page": page,
            "rows": _record_rows(page.object_list),
            "files": sub.files.select_related("created_by"),
            "writers": list(writers),
            "kinds": CreditRecord.Kind.choices,
            "kind": kind,
            "can_approve": sub.status == Submission.Status.DRAFT
            and sub.generated_by_id != request.user.pk,
        },
    )


@_manager
def errors(request: HttpRequest, pk: int) -> HttpResponse:
    sub = get_object_or_404(Submission, pk=pk)
    records = sub.records.exclude(errors=[]).order_by("id")
    page = Paginator(records, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "creditreport/errors.html",
        {"sub": sub, "page": page, "rows": _record_rows(page.object_list)},
    )


def _act(request: HttpRequest, pk: int, fn: Any, ok: str, **kwargs: Any) -> HttpResponse:
    sub = get_object_or_404(Submission, pk=pk)
    try:
        fn(submission=sub, actor=request.user, **kwargs)
    except CreditReportError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, ok)
    return redirect("creditreport:detail", sub.pk)


@_manager
@require_POST
def export(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        services.submission_export,
        "报送文件已生成。",
        writer=request.POST.get("writer", "reference-text"),
        encoding=request.POST.get("encoding", ""),
    )


@_manager
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, services.submission_approve, "报送批次已审核。")


@_manager
@require_POST
def submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        services.submission_mark_submitted,
        "已标记为已报送。",
        note=request.POST.get("note", ""),
    )


@_manager
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        services.submission_cancel,
        "报送批次已作废，更正记录已重新排队。",
        reason=request.POST.get("reason", ""),
    )


@_manager
def download(request: HttpRequest, pk: int) -> HttpResponse:
    f = get_object_or_404(SubmissionFile.objects.select_related("submission"), pk=pk)
    data = services.file_read(f=f, actor=request.user)
    w = writers.get(f.writer)
    content_type = w.content_type if w else "application/octet-stream"
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{f.file_name}"'
    return response
