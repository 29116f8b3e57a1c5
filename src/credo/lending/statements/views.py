"""银行流水导入: upload, review matched / unmatched lines, manual match, 入账."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.lending import statements
from credo.lending.errors import LendingError
from credo.lending.models import Loan, StatementImport, StatementLine

PERM = "lending.post_repayment"
MAX_UPLOAD = 10 * 1024 * 1024


@login_required
@permission_required(PERM, raise_exception=True)
def statement_list(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, _("请选择要上传的流水文件。"))
        elif upload.size and upload.size > MAX_UPLOAD:
            messages.error(request, _("文件不能超过 10 MB。"))
        else:
            try:
                statement = statements.statement_import(
                    data=upload.read(), filename=upload.name or "", actor=request.user
                )
            except LendingError as exc:
                messages.error(request, exc.message)
            else:
                c = statement.counts
                messages.success(
                    request,
                    _("已导入 %(t)s 笔流水：已匹配 %(m)s 笔，未匹配 %(u)s 笔，忽略 %(i)s 笔。")
                    % {
                        "t": c.get("total", 0),
                        "m": c.get("matched", 0),
                        "u": c.get("unmatched", 0),
                        "i": c.get("ignored", 0),
                    },
                )
                return redirect("lending_statements:detail", pk=statement.pk)
    qs = StatementImport.objects.select_related("uploaded_by").order_by("-id")
    unmatched = request.GET.get("unmatched") == "1"
    if unmatched:  # the 工作台's "未匹配流水" card: imports with lines still to match
        qs = qs.filter(pk__in=StatementLine.objects.filter(status="unmatched").values("statement"))
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(request, "lending/statement_list.html", {"page": page, "unmatched": unmatched})


@login_required
@permission_required(PERM, raise_exception=True)
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    statement = get_object_or_404(StatementImport, pk=pk)
    lines = list(statement.lines.select_related("loan", "posting").order_by("row_number"))
    groups = [
        (status, label, [ln for ln in lines if ln.status == status])
        for status, label in StatementLine.Status.choices
    ]
    return render(
        request,
        "lending/statement_detail.html",
        {"statement": statement, "groups": groups, "counts": statement.counts},
    )


@login_required
@permission_required(PERM, raise_exception=True)
@require_POST
def statement_post(request: HttpRequest, pk: int) -> HttpResponse:
    statement = get_object_or_404(StatementImport, pk=pk)
    result = statements.post_matched(statement=statement, actor=request.user)
    if result["posted"]:
        messages.success(request, _("已入账 %(n)s 笔。") % {"n": result["posted"]})
    for err in result["errors"]:
        messages.error(request, _("第 %(r)s 行：%(m)s") % {"r": err["row"], "m": err["message"]})
    if not result["posted"] and not result["errors"]:
        messages.info(request, _("没有待入账的已匹配流水。"))
    return redirect("lending_statements:detail", pk=statement.pk)


@login_required
@permission_required(PERM, raise_exception=True)
@require_POST
def line_match(request: HttpRequest, line_pk: int) -> HttpResponse:
    line = get_object_or_404(StatementLine, pk=line_pk)
    number = (request.POST.get("loan_number") or "").strip().upper()
    loan = Loan.objects.filter(number=number).first() if number else None
    if loan is None:
        messages.error(request, _("贷款编号 %(n)s 不存在。") % {"n": number or "—"})
    else:
        try:
            statements.line_match(line=line, loan=loan, actor=request.user)
        except LendingError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("第 %(r)s 行已匹配到贷款 %(n)s。") % {"r": line.row_number, "n": number}
            )
    return redirect("lending_statements:detail", pk=line.statement_id)


@login_required
@permission_required(PERM, raise_exception=True)
@require_POST
def line_ignore(request: HttpRequest, line_pk: int) -> HttpResponse:
    line = get_object_or_404(StatementLine, pk=line_pk)
    try:
        statements.line_ignore(line=line, actor=request.user)
    except LendingError as exc:
        messages.error(request, exc.message)
    return redirect("lending_statements:detail", pk=line.statement_id)


@login_required
@permission_required(PERM, raise_exception=True)
@require_POST
def line_post(request: HttpRequest, line_pk: int) -> HttpResponse:
    line = get_object_or_404(StatementLine, pk=line_pk)
    try:
        statements.line_post(line=line, actor=request.user)
    except LendingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("第 %(r)s 行已入账。") % {"r": line.row_number})
    return redirect("lending_statements:detail", pk=line.statement_id)
