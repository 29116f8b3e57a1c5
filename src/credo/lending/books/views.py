"""Pages of the books: periods (结账/反结账), 科目余额表, 总账/明细账, 凭证导出. Thin: parse,
call one service or selector, render."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.lending.accounting import voucher_csv
from credo.lending.books import exports, selectors, services, vouchers
from credo.lending.books.forms import CSV, NoteForm, ReopenForm, VoucherForm
from credo.lending.books.models import AccountingPeriod
from credo.lending.errors import LendingError
from credo.lending.models import LedgerAccount, Loan

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GL_PAGE = 100


def _any_perm(user: Any, *perms: str) -> None:
    if not any(user.has_perm(p) for p in perms):
        raise PermissionDenied


def _month(request: HttpRequest, default: dt.date | None = None) -> dt.date:
    text = request.GET.get("period") or ""
    if text:
        try:
            return selectors.parse_month(text)
        except ValueError:
            messages.error(request, _("请按 YYYY-MM 填写会计期间。"))
    return default or selectors.prev_month(selectors.month_start(clock.today()))


def _download(data: bytes | str, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# ---------------------------------------------------------------- periods


@login_required
def period_list(request: HttpRequest) -> HttpResponse:
    """会计期间: every month from the first posting to last month, with its status and what
    the user may do."""
    user = request.user
    _any_perm(user, services.VIEW_BOOKS, services.CLOSE_PERIOD, services.APPROVE_REOPEN)
    rows_by_month = {p.month: p for p in selectors.periods(limit=240)}
    current = selectors.month_start(clock.today())
    first = selectors.first_posting_month() or current
    months = []
    m = min([first, *rows_by_month]) if rows_by_month else first
    while m <= current:
        months.append(m)
        m = selectors.next_month(m)
    latest_closed = max(
        (p.month for p in rows_by_month.values() if p.status != AccountingPeriod.Status.OPEN),
        default=None,
    )
    can_close = user.has_perm(services.CLOSE_PERIOD)
    can_approve = user.has_perm(services.APPROVE_REOPEN)
    rows = []
    for month in reversed(months[-36:]):
        period = rows_by_month.get(month)
        status = period.status if period else AccountingPeriod.Status.OPEN
        blockers = (
            services.close_blockers(month)
            if can_close and status == AccountingPeriod.Status.OPEN
            else []
        )
        rows.append(
            {
                "month": month,
                "label": month.strftime("%Y-%m"),
                "period": period,
                "status": status,
                "status_label": AccountingPeriod.Status(status).label,
                "blockers": blockers,
                "can_close": can_close and status == AccountingPeriod.Status.OPEN and not blockers,
                "can_request_reopen": can_close
                and status == AccountingPeriod.Status.CLOSED
                and month == latest_closed,
                "can_decide": can_approve
                and status == AccountingPeriod.Status.REOPENING
                and period is not None
                and period.reopen_requested_by_id != user.pk,
                "can_withdraw": status == AccountingPeriod.Status.REOPENING
                and period is not None
                and period.reopen_requested_by_id == user.pk,
            }
        )
    return render(
        request,
        "lending/books/periods.html",
        {
            "rows": rows,
            "reopen_form": ReopenForm(),
            "note_form": NoteForm(),
            "book_settings": _book_settings(),
        },
    )


def _book_settings() -> Any:
    from credo.lending.accruals.services import book_settings  # 记账基础 (issue 20 item 4)

    return book_settings()


def _act(request: HttpRequest, fn: Any, ok: str, **kw: Any) -> HttpResponse:
    try:
        fn(actor=request.user, **kw)
    except LendingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, ok)
    return redirect("lending:books:periods")


def _post_month(month: str) -> dt.date:
    try:
        return selectors.parse_month(month)
    except ValueError:
        raise Http404 from None


@login_required
@require_POST
@permission_required(services.CLOSE_PERIOD, raise_exception=True)
def period_close(request: HttpRequest, month: str) -> HttpResponse:
    m = _post_month(month)
    return _act(
        request, services.period_close, _("会计期间 %(m)s 已结账。") % {"m": month}, month=m
    )


@login_required
@require_POST
@permission_required(services.CLOSE_PERIOD, raise_exception=True)
def period_reopen_request(request: HttpRequest, month: str) -> HttpResponse:
    m = _post_month(month)
    form = ReopenForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _act(
        request,
        services.period_reopen_request,
        _("已申请反结账 %(m)s，等待第二人审批。") % {"m": month},
        month=m,
        reason=reason,
    )


@login_required
@require_POST
@permission_required(services.APPROVE_REOPEN, raise_exception=True)
def period_reopen_approve(request: HttpRequest, month: str) -> HttpResponse:
    m = _post_month(month)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _act(
        request,
        services.period_reopen_approve,
        _("已批准反结账，%(m)s 恢复为未结账。") % {"m": month},
        month=m,
        note=note,
    )


@login_required
@require_POST
def period_reopen_reject(request: HttpRequest, month: str) -> HttpResponse:
    _any_perm(request.user, services.CLOSE_PERIOD, services.APPROVE_REOPEN)
    m = _post_month(month)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _act(
        request,
        services.period_reopen_reject,
        _("反结账申请已驳回或撤回，%(m)s 仍为已结账。") % {"m": month},
        month=m,
        note=note,
    )


# ---------------------------------------------------------------- 科目余额表


@login_required
@permission_required(services.VIEW_BOOKS, raise_exception=True)
def trial_balance(request: HttpRequest) -> HttpResponse:
    month = _month(request)
    tb = selectors.trial_balance(month)
    if request.GET.get("format") == "xlsx":
        audit_record(
            action="books.export",
            actor=request.user,
            metadata={"report": "trial_balance", "period": tb.label},
        )
        return _download(exports.trial_balance_xlsx(tb), f"trial-balance-{tb.label}.xlsx", XLSX)
    current = selectors.month_start(clock.today())
    return render(
        request,
        "lending/books/trial_balance.html",
        {
            "tb": tb,
            "period": tb.label,
            "prev": selectors.prev_month(month).strftime("%Y-%m"),
            "next": selectors.next_month(month).strftime("%Y-%m") if month < current else "",
            "checks": selectors.control_checks(tb) if month == current else [],
        },
    )


# ---------------------------------------------------------------- 总账 / 明细账


@login_required
@permission_required(services.VIEW_BOOKS, raise_exception=True)
def general_ledger(request: HttpRequest, code: str) -> HttpResponse:
    account = get_object_or_404(LedgerAccount, code=code)
    month = _month(request)
    loan = None
    number = (request.GET.get("loan") or "").strip()
    if number:
        loan = Loan.objects.filter(number=number).first()
        if loan is None:
            messages.error(request, _("没有贷款编号为 %(n)s 的贷款。") % {"n": number})
    if request.GET.get("format") == "xlsx":
        audit_record(
            action="books.export",
            actor=request.user,
            metadata={
                "report": "general_ledger",
                "account": code,
                "period": month.strftime("%Y-%m"),
            },
        )
        return _download(
            exports.general_ledger_xlsx(account, month, loan=loan),
            f"ledger-{code}-{month:%Y-%m}.xlsx",
            XLSX,
        )
    try:
        page = max(1, int(request.GET.get("page") or 1))
    except ValueError:
        page = 1
    opening, total, lines = selectors.ledger_lines(
        account, month, loan=loan, offset=(page - 1) * GL_PAGE, limit=GL_PAGE
    )
    days: list[Any] = []
    if loan is None:
        _opening, days = selectors.ledger_days(account, month)
    pages = max(1, (total + GL_PAGE - 1) // GL_PAGE)
    return render(
        request,
        "lending/books/general_ledger.html",
        {
            "account": account,
            "accounts": LedgerAccount.objects.all(),
            "period": month.strftime("%Y-%m"),
            "loan": loan,
            "loan_number": number,
            "opening": opening,
            "days": days,
            "lines": lines,
            "total": total,
            "page": page,
            "pages": pages,
            "closing": days[-1].balance if days else None,
        },
    )


# ---------------------------------------------------------------- 凭证导出


@login_required
@permission_required(services.EXPORT_VOUCHERS, raise_exception=True)
def voucher_export(request: HttpRequest) -> HttpResponse:
    initial = {
        "period": selectors.prev_month(selectors.month_start(clock.today())).strftime("%Y-%m"),
        "system": "kingdee_k3cloud",
        "mode": vouchers.DETAILED,
    }
    form = VoucherForm(request.GET or None, initial=initial)
    if request.GET and form.is_valid():
        system = form.cleaned_data["system"]
        month = form.cleaned_data["period"]
        mode = form.cleaned_data["mode"]
        audit_record(
            action="voucher.export",
            actor=request.user,
            metadata={"system": system, "period": month.strftime("%Y-%m"), "mode": mode},
        )
        if system == CSV:
            text = voucher_csv(month, selectors.month_end(month))
            return _download(text, f"vouchers-{month:%Y-%m}.csv", "text/csv; charset=utf-8")
        try:
            data = vouchers.voucher_xlsx(system, month, mode=mode)
        except ValueError:
            messages.error(request, _("分录行数超过 Excel 单表上限，请选择汇总凭证或通用 CSV。"))
        else:
            return _download(data, vouchers.file_name(system, month, mode), XLSX)
    accounts = list(LedgerAccount.objects.all())
    maps = {(m.system, m.account_id): m.code for m in vouchers.VoucherAccountMap.objects.all()}
    systems = [(f.key, f.label) for f in vouchers.FORMATS.values()]
    mapping = [
        {
            "account": acc,
            "codes": [
                {"system": key, "code": maps.get((key, acc.pk), "")} for key, _label in systems
            ],
        }
        for acc in accounts
    ]
    return render(
        request,
        "lending/books/vouchers.html",
        {"form": form, "systems": systems, "mapping": mapping},
    )


@login_required
@require_POST
@permission_required(services.EXPORT_VOUCHERS, raise_exception=True)
def voucher_mapping(request: HttpRequest) -> HttpResponse:
    """Save the per-system account codes of the mapping table (empty = the default code)."""
    try:
        for acc in LedgerAccount.objects.all():
            for fmt in vouchers.FORMATS.values():
                name = f"map-{fmt.key}-{acc.pk}"
                if name in request.POST:
                    services.voucher_map_set(
                        system=fmt.key, account=acc, code=request.POST[name], actor=request.user
                    )
    except LendingError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("科目映射已保存。"))
    return redirect(reverse("lending:books:vouchers") + "#voucher-mapping")
