"""Lending API: products, loans (scoped), schedules, repayment postings (idempotent), reversal,
prepayment quote and posting, accounting vouchers and the schedule calculator.

Amounts are decimal strings in yuan ("1234.56"); dates ISO ``YYYY-MM-DD``. A POST that posts
money honours ``Idempotency-Key``: the response is stored and replayed (``@idempotent``), and the
key is also handed to the posting service, so a replay never posts twice.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Sum
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from credo.api.auth import require_perm, require_scope
from credo.api.errors import ApiError
from credo.api.idempotency import HEADER, idempotent
from credo.api.pagination import Page, PageQuery, paginate
from credo.api.schemas import ErrorOut
from credo.core import clock
from credo.core.money import Money
from credo.lending import accounting, allocation, selectors, services
from credo.lending import prepay as prepayment
from credo.lending.errors import LendingError
from credo.lending.ledger import fen
from credo.lending.models import Installment, Loan, Posting, Product, ProductVersion
from credo.lending.schedule import METHODS, ScheduleError, fen_to_str, generate

router = Router(tags=["lending"])
ERRORS: dict[int, type[Schema]] = {
    400: ErrorOut,
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
}


# --- schemas -------------------------------------------------------------------------------------
class ProductOut(Schema):
    code: str
    name: str
    version: int
    min_amount: str
    max_amount: str
    min_months: int
    max_months: int
    min_rate: str
    max_rate: str
    method: str
    repayment_day: int | None
    upfront_fee_rate: str
    installment_fee: str
    max_apr: str = "24.00"
    apr_percent_low: str | None = None
    apr_percent_high: str | None = None
    penalty_multiplier: str
    grace_days: int
    penalty_days_in_year: int
    allocation_order: list[str]
    required_documents: list[Any]


class LoanOut(Schema):
    id: int
    number: str
    customer_id: int
    customer_name: str
    product: str
    product_version: int
    principal: str
    annual_rate: str
    months: int
    method: str
    repayment_day: int | None
    status: str
    classification: str
    dpd: int
    start_date: str | None
    maturity_date: str | None
    outstanding_principal: str
    credit_balance: str
    owner: str
    version: int


class LoanDetailOut(LoanOut):
    upfront_fee: str
    installment_fee: str
    penalty_multiplier: str
    grace_days: int
    penalty_days_in_year: int
    allocation_order: list[str]
    figures: dict[str, Any]


class InstallmentOut(Schema):
    period: int
    due_date: str
    principal_due: str
    interest_due: str
    fee_due: str
    penalty_due: str
    principal_paid: str
    interest_paid: str
    fee_paid: str
    penalty_paid: str
    status: str
    paid_on: str | None


class PostingIn(Schema):
    amount: str
    received_on: dt.date
    reference: str = ""


class PostingOut(Schema):
    id: int
    loan_id: int
    loan_number: str
    amount: str
    received_on: str
    channel: str
    reference: str
    allocation: dict[str, Any]
    reversed_at: str | None
    created_at: str
    loan_status: str
    outstanding_principal: str


class ReverseIn(Schema):
    reason: str


class ReverseOut(Schema):
    posting_id: int
    reversal_entry_id: int
    loan_status: str
    outstanding_principal: str


class WriteOffIn(Schema):
    reason: str
    version: int | None = None


class WriteOffOut(Schema):
    loan: str
    status: str
    entry_id: int
    written_off_principal: str


class PrepayIn(Schema):
    amount: str
    on_date: dt.date
    mode: str = "reduce_payment"


class PrepayOut(Schema):
    loan: str
    status: str
    due_posting_id: int | None
    posting_id: int
    principal: str
    interest: str
    outstanding_principal: str
    paid_off: bool


class ScheduleQuoteIn(Schema):
    principal: str
    annual_rate: str
    months: int
    method: str
    start: dt.date
    repayment_day: int | None = None
    days_in_year: int = 360
    upfront_fee: str = "0"
    installment_fee: str = "0"


class LoanFilter(PageQuery):
    q: str = ""
    status: str = ""
    classification: str = ""
    overdue: str = ""


# --- helpers -------------------------------------------------------------------------------------
def _y(value: Any) -> str:
    return fen_to_str(value.fen if isinstance(value, Money) else int(value or 0))


def _lending_error(exc: LendingError) -> ApiError:
    return ApiError(exc.code, exc.message, status=exc.status)


def _amount(text: str, field: str = "amount") -> Money:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        value = Decimal("NaN")
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        raise ApiError(
            "validation_error",
            _("请求参数校验失败"),
            status=422,
            details={f"body.{field}": [_("金额必须是大于 0、最多两位小数的数字（元）")]},
        )
    return Money(value)


def _date_param(request: HttpRequest, name: str, default: dt.date | None = None) -> dt.date:
    raw = request.GET.get(name, "")
    if not raw:
        if default is not None:
            return default
        raise ApiError(
            "validation_error",
            _("请求参数校验失败"),
            status=422,
            details={f"query.{name}": [_("必填，格式 YYYY-MM-DD")]},
        )
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ApiError(
            "validation_error",
            _("请求参数校验失败"),
            status=422,
            details={f"query.{name}": [_("日期格式应为 YYYY-MM-DD")]},
        ) from None


def _get_loan(request: HttpRequest, loan_id: int) -> Loan:
    try:
        return selectors.loan_get(request.user, loan_id)
    except Http404:
        raise ApiError("not_found", _("贷款不存在或无权访问"), status=404) from None


def _idem_key(request: HttpRequest) -> str | None:
    return request.headers.get(HEADER, "").strip() or None


def product_out(pv: ProductVersion) -> dict[str, Any]:
    return {
        "code": pv.product.code,
        "name": pv.product.name,
        "version": pv.number,
        "min_amount": _y(pv.min_amount),
        "max_amount": _y(pv.max_amount),
        "min_months": pv.min_months,
        "max_months": pv.max_months,
        "min_rate": str(pv.min_rate.normalize()),
        "max_rate": str(pv.max_rate.normalize()),
        "method": pv.method,
        "repayment_day": pv.repayment_day,
        "upfront_fee_rate": str(pv.upfront_fee_rate.normalize()),
        "installment_fee": _y(pv.installment_fee),
        **_product_apr(pv),
        "penalty_multiplier": str(pv.penalty_multiplier),
        "grace_days": pv.grace_days,
        "penalty_days_in_year": pv.penalty_days_in_year,
        "allocation_order": list(pv.allocation_order or []),
        "required_documents": list(pv.required_documents or []),
    }


def _product_apr(pv: ProductVersion) -> dict[str, Any]:
    """年化利率 (IRR method, all fees) at the lowest and highest corner of the ranges."""
    from credo.lending.pricing import caps

    out: dict[str, Any] = {"max_apr": f"{pv.max_apr:.2f}"}
    try:
        rng = caps.version_range(pv)
    except LendingError:
        return out
    return {**out, "apr_percent_low": rng.low.percent_str, "apr_percent_high": rng.high.percent_str}


def loan_out(loan: Loan) -> dict[str, Any]:
    return {
        "id": loan.pk,
        "number": loan.number,
        "customer_id": loan.customer_id,
        "customer_name": loan.customer.name,
        "product": loan.product_version.product.code,
        "product_version": loan.product_version.number,
        "principal": _y(loan.principal),
        "annual_rate": str(loan.annual_rate.normalize()),
        "months": loan.months,
        "method": loan.method,
        "repayment_day": loan.repayment_day,
        "status": loan.status,
        "classification": loan.classification,
        "dpd": loan.dpd,
        "start_date": loan.start_date.isoformat() if loan.start_date else None,
        "maturity_date": loan.maturity_date.isoformat() if loan.maturity_date else None,
        "outstanding_principal": _y(loan.outstanding_principal),
        "credit_balance": _y(loan.credit_balance),
        "owner": loan.owner.get_username(),
        "version": loan.version,
    }


def _figures(loan: Loan) -> dict[str, Any]:
    rows = list(loan.installments.order_by("period"))
    today = clock.today()
    owed = sum(
        sum(allocation.due_components(i).values())
        for i in rows
        if i.due_date <= today and i.status != Installment.Status.PAID
    )
    nxt = next(
        (i for i in rows if i.status != Installment.Status.PAID and i.due_date > today), None
    )
    paid = loan.postings.filter(reversed_at__isnull=True).aggregate(s=Sum("amount"))["s"]
    return {
        "due_amount": fen_to_str(owed),
        "next_due_date": nxt.due_date.isoformat() if nxt else None,
        "next_due_amount": fen_to_str(sum(allocation.due_components(nxt).values()))
        if nxt
        else None,
        "installments_total": len(rows),
        "installments_paid": sum(1 for i in rows if i.status == Installment.Status.PAID),
        "principal_repaid": fen_to_str(sum(i.principal_paid.fen for i in rows)),
        "interest_paid": fen_to_str(sum(i.interest_paid.fen for i in rows)),
        "penalty_paid": fen_to_str(sum(i.penalty_paid.fen for i in rows)),
        "total_received": fen_to_str(fen(paid)),
    }


def _alloc_out(allocation: dict[str, Any]) -> dict[str, Any]:
    totals = allocation.get("totals", {})
    out: dict[str, Any] = {
        "totals": {k: fen_to_str(int(v)) for k, v in totals.items()},
        "credit": fen_to_str(int(allocation.get("credit", 0))),
        "installments": [
            {
                "period": part.get("period"),
                **{k: fen_to_str(int(part[k])) for k in services.COMPONENTS if k in part},
            }
            for part in allocation.get("installments", [])
        ],
    }
    if "prepayment" in allocation:
        info = allocation["prepayment"]
        out["prepayment"] = {"mode": info.get("mode"), "on_date": info.get("on_date")}
    return out


def posting_out(posting: Posting, loan: Loan) -> dict[str, Any]:
    return {
        "id": posting.pk,
        "loan_id": loan.pk,
        "loan_number": loan.number,
        "amount": _y(posting.amount),
        "received_on": posting.received_on.isoformat(),
        "channel": posting.channel,
        "reference": posting.reference,
        "allocation": _alloc_out(posting.allocation),
        "reversed_at": posting.reversed_at.isoformat() if posting.reversed_at else None,
        "created_at": posting.created_at.isoformat(),
        "loan_status": loan.status,
        "outstanding_principal": _y(loan.outstanding_principal),
    }


# --- endpoints -----------------------------------------------------------------------------------
@router.get(
    "/products", response={200: list[ProductOut], **ERRORS}, summary="在售产品（已发布版本）"
)
def list_products(request: HttpRequest) -> list[dict[str, Any]]:
    require_scope(request, "read")
    require_perm(request, "lending.view_product")
    versions = ProductVersion.objects.filter(
        status=ProductVersion.Status.PUBLISHED, product__in=Product.objects.filter(is_active=True)
    ).select_related("product")
    return [product_out(pv) for pv in versions.order_by("product__code")]


@router.get("/loans", response={200: Page[LoanOut], **ERRORS}, summary="贷款列表（按数据权限）")
def list_loans(request: HttpRequest, filters: Query[LoanFilter]) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "lending.view_loan")
    params = filters.model_dump()
    data = paginate(selectors.loan_list(request.user, params), filters.page, filters.page_size)
    data["items"] = [loan_out(loan) for loan in data["items"]]
    return data


@router.get("/loans/{loan_id}", response={200: LoanDetailOut, **ERRORS}, summary="贷款详情")
def get_loan(request: HttpRequest, loan_id: int) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "lending.view_loan")
    loan = _get_loan(request, loan_id)
    return {
        **loan_out(loan),
        "upfront_fee": _y(loan.upfront_fee),
        "installment_fee": _y(loan.installment_fee),
        "penalty_multiplier": str(loan.penalty_multiplier),
        "grace_days": loan.grace_days,
        "penalty_days_in_year": loan.penalty_days_in_year,
        "allocation_order": list(loan.allocation_order or []),
        "figures": _figures(loan),
    }


@router.get(
    "/loans/{loan_id}/schedule",
    response={200: list[InstallmentOut], **ERRORS},
    summary="还款计划",
)
def loan_schedule(request: HttpRequest, loan_id: int) -> list[dict[str, Any]]:
    require_scope(request, "read")
    require_perm(request, "lending.view_loan")
    loan = _get_loan(request, loan_id)
    return [
        {
            "period": i.period,
            "due_date": i.due_date.isoformat(),
            **{
                f"{c}_{s}": _y(getattr(i, f"{c}_{s}"))
                for c in ("principal", "interest", "fee", "penalty")
                for s in ("due", "paid")
            },
            "status": i.status,
            "paid_on": i.paid_on.isoformat() if i.paid_on else None,
        }
        for i in loan.installments.order_by("period")
    ]


@router.post(
    "/loans/{loan_id}/postings",
    response={201: PostingOut, **ERRORS},
    summary="登记还款（支持 Idempotency-Key）",
)
@idempotent
def create_posting(request: HttpRequest, loan_id: int, payload: PostingIn) -> Status[Any]:
    require_scope(request, "write")
    require_perm(request, "lending.post_repayment")
    loan = _get_loan(request, loan_id)
    amount = _amount(payload.amount)
    try:
        posting = services.repayment_post(
            loan=loan,
            amount=amount,
            received_on=payload.received_on,
            actor=request.user,
            channel=Posting.Channel.API,
            reference=payload.reference[:80],
            idempotency_key=_idem_key(request),
        )
    except LendingError as exc:
        raise _lending_error(exc) from exc
    loan.refresh_from_db()
    return Status(201, posting_out(posting, loan))


@router.post(
    "/postings/{posting_id}/reverse",
    response={200: ReverseOut, **ERRORS},
    summary="冲正还款（支持 Idempotency-Key）",
)
@idempotent
def reverse_posting(request: HttpRequest, posting_id: int, payload: ReverseIn) -> dict[str, Any]:
    require_scope(request, "write")
    require_perm(request, "lending.reverse_posting")
    posting = Posting.objects.filter(pk=posting_id).first()
    if posting is None:
        raise ApiError("not_found", _("还款记录不存在或无权访问"), status=404)
    loan = _get_loan(request, posting.loan_id)
    try:
        entry = services.posting_reverse(posting=posting, actor=request.user, reason=payload.reason)
    except LendingError as exc:
        raise _lending_error(exc) from exc
    loan.refresh_from_db()
    return {
        "posting_id": posting.pk,
        "reversal_entry_id": entry.pk,
        "loan_status": loan.status,
        "outstanding_principal": _y(loan.outstanding_principal),
    }


@router.post(
    "/loans/{loan_id}/write-off",
    response={200: WriteOffOut, **ERRORS},
    summary="核销贷款（可疑/损失类；支持 Idempotency-Key）",
)
@idempotent
def write_off(request: HttpRequest, loan_id: int, payload: WriteOffIn) -> dict[str, Any]:
    require_scope(request, "write")
    require_perm(request, "lending.write_off_loan")
    loan = _get_loan(request, loan_id)
    try:
        entry = services.loan_write_off(
            loan=loan, actor=request.user, reason=payload.reason, expected_version=payload.version
        )
    except LendingError as exc:
        raise _lending_error(exc) from exc
    loan.refresh_from_db()
    principal = sum(line.debit.fen for line in entry.lines.all())
    return {
        "loan": loan.number,
        "status": loan.status,
        "entry_id": entry.pk,
        "written_off_principal": fen_to_str(principal),
    }


@router.get(
    "/loans/{loan_id}/prepayment-quote",
    response={200: dict[str, Any], **ERRORS},
    summary="提前还款试算（?date=YYYY-MM-DD&amount=元）",
)
def prepayment_quote(request: HttpRequest, loan_id: int) -> dict[str, Any]:
    require_scope(request, "read")
    require_perm(request, "lending.view_loan")
    loan = _get_loan(request, loan_id)
    on_date = _date_param(request, "date", clock.today())
    raw = request.GET.get("amount", "")
    amount = _amount(raw, "amount") if raw else None
    try:
        return prepayment.prepayment_quote(loan=loan, on_date=on_date, amount=amount)
    except LendingError as exc:
        raise _lending_error(exc) from exc


@router.post(
    "/loans/{loan_id}/prepay",
    response={201: PrepayOut, **ERRORS},
    summary="提前还款（支持 Idempotency-Key）",
)
@idempotent
def prepay(request: HttpRequest, loan_id: int, payload: PrepayIn) -> Status[Any]:
    require_scope(request, "write")
    require_perm(request, "lending.post_repayment")
    loan = _get_loan(request, loan_id)
    amount = _amount(payload.amount)
    try:
        result = prepayment.prepay(
            loan=loan,
            amount=amount,
            on_date=payload.on_date,
            mode=payload.mode,
            actor=request.user,
            idempotency_key=_idem_key(request),
            channel=Posting.Channel.API,
        )
    except LendingError as exc:
        raise _lending_error(exc) from exc
    return Status(201, result.as_dict())


@router.get(
    "/accounting/vouchers",
    response=ERRORS,
    summary="会计凭证导出 CSV（?from=YYYY-MM-DD&to=YYYY-MM-DD）",
)
def accounting_vouchers(request: HttpRequest) -> HttpResponse:
    require_scope(request, "read")
    require_perm(request, "lending.post_repayment")
    date_from = _date_param(request, "from")
    date_to = _date_param(request, "to")
    if date_from > date_to or (date_to - date_from).days > 366:
        raise ApiError(
            "validation_error",
            _("日期区间无效（起始日不能晚于截止日，且不超过一年）"),
            status=422,
            details={"query.from": [f"{date_from}"], "query.to": [f"{date_to}"]},
        )
    response = HttpResponse(
        accounting.voucher_csv(date_from, date_to), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = (
        f'attachment; filename="vouchers_{date_from:%Y%m%d}_{date_to:%Y%m%d}.csv"'
    )
    return response


@router.post("/schedule/quote", response={200: dict[str, Any], **ERRORS}, summary="还款计划试算")
def schedule_quote(request: HttpRequest, payload: ScheduleQuoteIn) -> dict[str, Any]:
    require_scope(request, "read")
    principal = _amount(payload.principal, "principal")
    try:
        rate = Decimal(payload.annual_rate)
        if not rate.is_finite():
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        raise ApiError(
            "validation_error",
            _("请求参数校验失败"),
            status=422,
            details={"body.annual_rate": [_("年利率必须是数字（%）")]},
        ) from None
    if payload.method not in METHODS:
        raise ApiError(
            "validation_error",
            _("请求参数校验失败"),
            status=422,
            details={"body.method": list(METHODS)},
        )
    try:
        schedule = generate(
            principal=principal.fen,
            annual_rate=rate,
            months=payload.months,
            method=payload.method,
            start=payload.start,
            repayment_day=payload.repayment_day,
            days_in_year=payload.days_in_year,
        )
    except ScheduleError as exc:
        raise ApiError("validation_error", str(exc), status=422) from exc
    from credo.lending.pricing.apr import AprError, schedule_apr

    def fee(text: str, name: str) -> int:
        return 0 if str(text).strip() in ("", "0", "0.0", "0.00") else _amount(text, name).fen

    upfront = fee(payload.upfront_fee, "upfront_fee")
    per_period = fee(payload.installment_fee, "installment_fee")
    try:
        apr = schedule_apr(
            schedule,
            upfront_fee=upfront,
            installment_fee=per_period,
            days_in_year=payload.days_in_year,
            repayment_day=payload.repayment_day,
        )
    except AprError as exc:
        raise ApiError("validation_error", str(exc), status=422) from exc
    return {  # the same keys as `credo schedule --format json`
        **schedule.as_dict(),
        "upfront_fee": fen_to_str(upfront),
        "installment_fee": fen_to_str(per_period),
        "apr_percent": apr.percent_str,
        "apr_effective_percent": apr.effective_percent_str,
    }


# --- book migration (存量贷款迁移) and loan figures ------------------------------------------------
@router.post(
    "/book/imports",
    response={200: dict[str, Any], 201: dict[str, Any], **ERRORS},
    summary="存量贷款导入（multipart：file，dry_run，as_of）",
)
def book_import_api(
    request: HttpRequest,
    file: File[UploadedFile],
    dry_run: Form[bool] = False,
    as_of: Form[str] = "",
    expected_sha256: Form[str] = "",
) -> Any:
    from credo.lending.bookimport import services as book

    require_scope(request, "write")
    if not book.may_import(request.user):
        require_perm(request, "lending.import_book")  # raises the standard 403
    day = None
    if as_of:
        try:
            day = dt.date.fromisoformat(as_of)
        except ValueError:
            raise ApiError(
                "validation_error",
                _("请求参数校验失败"),
                status=422,
                details={"body.as_of": [_("日期格式应为 YYYY-MM-DD")]},
            ) from None
    data = b"".join(file.chunks())
    try:
        out = book.book_import(
            data=data,
            filename=file.name or "book.xlsx",
            actor=request.user,
            as_of=day,
            dry_run=dry_run,
            expected_sha256=expected_sha256.strip().lower(),
        )
    except LendingError as exc:
        raise _lending_error(exc) from exc
    if out.status == "imported":
        return Status(201, out.as_dict())
    if out.status in ("invalid", "conflict"):
        raise ApiError(
            out.status,
            _("文件有错误或与已导入数据冲突，未导入任何数据"),
            status=422 if out.status == "invalid" else 409,
            details={"errors": out.errors, "conflicts": out.conflicts},
        )
    return Status(200, out.as_dict())


@router.get(
    "/book/imports/{import_id}/reconciliation",
    response={200: dict[str, Any], **ERRORS},
    summary="存量贷款导入对账（JSON）",
)
def book_import_reconciliation(request: HttpRequest, import_id: int) -> dict[str, Any]:
    from credo.lending.bookimport import services as book
    from credo.lending.models import BookImport

    require_scope(request, "read")
    if not book.may_import(request.user):
        require_perm(request, "lending.import_book")
    record = BookImport.objects.filter(pk=import_id).first()
    if record is None:
        raise ApiError("not_found", _("导入记录不存在"), status=404)
    return {
        "id": record.pk,
        "file_name": record.file_name,
        "sha256": record.sha256,
        "as_of": record.as_of.isoformat(),
        "status": record.status,
        "actor": record.actor.get_username(),
        "created_at": record.created_at.isoformat(),
        "counts": record.counts,
        "reconciliation": record.reconciliation,
    }


@router.get(
    "/loans/{loan_id}/show",
    response={200: dict[str, Any], **ERRORS},
    summary="贷款状态与应还（同 credo loan show）",
)
def loan_show(request: HttpRequest, loan_id: int) -> dict[str, Any]:
    from credo.lending.bookimport.loan_show import loan_show_data

    require_scope(request, "read")
    require_perm(request, "lending.view_loan")
    return loan_show_data(_get_loan(request, loan_id))


# --- 收费 (ad hoc fees as value-dated events) ----------------------------------------------------
class ChargeIn(Schema):
    kind: str = "handling"
    amount: str
    charged_on: dt.date
    memo: str = ""


class ChargeOut(Schema):
    id: int
    loan: str
    kind: str
    amount: str
    charged_on: dt.date
    due_period: int | None
    memo: str
    reversed: bool


def _charge_out(charge: Any, loan: Loan) -> dict[str, Any]:
    return {
        "id": charge.pk,
        "loan": loan.number,
        "kind": charge.kind,
        "amount": _y(charge.amount),
        "charged_on": charge.charged_on,
        "due_period": charge.due_period,
        "memo": charge.memo,
        "reversed": charge.reversed_at is not None,
    }


@router.get(
    "/loans/{loan_id}/charges", response={200: list[ChargeOut], **ERRORS}, summary="贷款收费记录"
)
def list_charges(request: HttpRequest, loan_id: int) -> list[dict[str, Any]]:
    require_scope(request, "read")
    require_perm(request, "lending.view_loan")
    loan = _get_loan(request, loan_id)
    return [_charge_out(c, loan) for c in loan.charges.all()]


@router.post(
    "/loans/{loan_id}/charges",
    response={201: ChargeOut, **ERRORS},
    summary="收费（手续费/违约金/其他费用，按起息日重算；支持 Idempotency-Key）",
)
@idempotent
def create_charge(request: HttpRequest, loan_id: int, payload: ChargeIn) -> Status[Any]:
    from credo.lending.charges.services import charge_create

    require_scope(request, "write")
    require_perm(request, "lending.charge_fee")
    loan = _get_loan(request, loan_id)
    amount = _amount(payload.amount)
    try:
        charge = charge_create(
            loan=loan,
            kind=payload.kind,
            amount=amount,
            charged_on=payload.charged_on,
            memo=payload.memo,
            actor=request.user,
            idempotency_key=_idem_key(request),
        )
    except LendingError as exc:
        raise _lending_error(exc) from exc
    return Status(201, _charge_out(charge, loan))
