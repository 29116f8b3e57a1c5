"""借款人自助服务 pages (H5, /b/): thin views over credo.borrower.auth / selectors / services.

Every page is for the signed-in borrower only (``borrower_required``); anything addressed by id
is looked up inside the borrower's own customer ids, so another borrower's loan, contract or
application answers 404.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods, require_POST

from credo.borrower import auth, conf, selectors, services
from credo.borrower.access import (
    borrower_public,
    borrower_required,
    clear_session_cookie,
    safe_next,
    set_session_cookie,
)
from credo.borrower.errors import BorrowerError
from credo.core import clock
from credo.core.middleware import client_ip
from credo.core.money import Money, format_fen


def _b(request: HttpRequest) -> services.Borrower:
    return request.borrower  # type: ignore[attr-defined,no-any-return]


def _status(exc: BorrowerError) -> int:
    return exc.status if exc.status in (400, 403, 409, 429) else 200


# --- login ----------------------------------------------------------------------------------------
@borrower_public
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    """Step 1 sends the code (same answer for any valid number), step 2 checks it."""
    phone = (request.POST.get("phone") or "").strip()
    ctx: dict[str, Any] = {
        "phone": phone,
        "step": "phone",
        "next": safe_next(request),
        "ttl_minutes": max(int(conf.get("CREDO_BORROWER_OTP_TTL_SECONDS")) // 60, 1),
    }
    status = 200
    action = request.POST.get("action")
    if request.method == "POST" and action == "send":
        try:
            auth.otp_request(phone=phone, ip=client_ip(request))
        except BorrowerError as exc:
            ctx["error"] = exc.message
            status = _status(exc)
        else:
            ctx["step"] = "code"
            ctx["sent"] = True
    elif request.method == "POST" and action == "verify":
        ctx["step"] = "code"
        try:
            _session, token = auth.otp_verify(
                phone=phone,
                code=request.POST.get("code", ""),
                ip=client_ip(request),
                user_agent=request.headers.get("User-Agent", ""),
            )
        except BorrowerError as exc:
            ctx["error"] = exc.message
            status = _status(exc)
        else:
            response = redirect(safe_next(request))
            set_session_cookie(response, token)
            return response
    return render(request, "borrower/login.html", ctx, status=status)


@borrower_required(privacy=False)
@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth.session_end(_b(request).session, reason="logout")
    response = redirect("borrower:login")
    clear_session_cookie(response)
    return response


# --- privacy --------------------------------------------------------------------------------------
@borrower_required(privacy=False)
@require_http_methods(["GET", "POST"])
def privacy(request: HttpRequest) -> HttpResponse:
    borrower = _b(request)
    if request.method == "POST":
        if request.POST.get("accept") != "1":
            messages.error(request, "请阅读并勾选同意《个人信息处理告知书》后继续。")
        else:
            services.privacy_accept(
                borrower=borrower,
                ip=client_ip(request),
                marketing=request.POST.get("marketing") == "1",
            )
            return redirect(safe_next(request))
    return render(
        request,
        "borrower/privacy.html",
        {
            "pending": services.privacy_pending(borrower),
            "version": services.privacy_version(),
            "marketing": services.marketing_in_force(borrower),
            "next": safe_next(request),
            "org_name": _org_name(),
        },
    )


@borrower_required
@require_POST
def marketing_withdraw(request: HttpRequest) -> HttpResponse:
    n = services.marketing_withdraw(borrower=_b(request))
    messages.success(request, "已撤回营销联系同意。" if n else "您当前没有生效的营销联系同意。")
    return redirect("borrower:privacy")


def _org_name() -> str:
    from django.conf import settings

    return str(getattr(settings, "CREDO_ORG_NAME", "") or "本公司")


# --- home, schedule, payments ---------------------------------------------------------------------
@borrower_required
def home(request: HttpRequest) -> HttpResponse:
    borrower = _b(request)
    rows = []
    for loan in selectors.loans(borrower.customer_ids):
        rows.append(
            {
                "loan": loan,
                "next": selectors.next_due(loan),
                "overdue": selectors.overdue_total(loan) if loan.status != "paid_off" else 0,
            }
        )
    customers = selectors.customers(borrower.customer_ids)
    renewal = [(c, *selectors.renewal_eligibility(c)) for c in customers]
    services.audit_view(borrower, "borrower.view_home")
    return render(
        request,
        "borrower/home.html",
        {
            "rows": rows,
            "customers": customers,
            "applications": list(selectors.open_applications(borrower.customer_ids)),
            "pending_contracts": [
                c for c in selectors.contracts(borrower.customer_ids) if c.status == "sent"
            ],
            "requests": list(selectors.requests(borrower.customer_ids)[:10]),
            "renewal": renewal,
            "phone": borrower.session.phone_masked,
        },
    )


@borrower_required
def loan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    borrower = _b(request)
    loan = selectors.loan_get(borrower.customer_ids, pk)
    services.audit_view(borrower, "borrower.view_schedule", obj=loan)
    return render(
        request,
        "borrower/loan.html",
        {
            "loan": loan,
            "installments": selectors.schedule(loan),
            "next": selectors.next_due(loan),
            "can_prepay": loan.status in ("active", "overdue"),
            "today": clock.today(),
        },
    )


@borrower_required
def payments(request: HttpRequest) -> HttpResponse:
    borrower = _b(request)
    services.audit_view(borrower, "borrower.view_payments")
    return render(
        request,
        "borrower/payments.html",
        {"postings": list(selectors.payments(borrower.customer_ids)[:200])},
    )


@borrower_required
def statement_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """对账单 (PDF): terms, schedule with amounts paid, repayments received, as of today —
    rendered by the contracts app's HTML→PDF (WeasyPrint, no external resources)."""
    from credo.contracts.rendering import html_document, pdf_bytes

    borrower = _b(request)
    loan = selectors.loan_get(borrower.customer_ids, pk)
    today = clock.today()
    body = render_to_string(
        "borrower/statement_pdf.html",
        {
            "loan": loan,
            "installments": selectors.schedule(loan),
            "postings": list(selectors.payments(borrower.customer_ids, loan)),
            "today": today,
            "org_name": _org_name(),
            "next": selectors.next_due(loan),
        },
    )
    data = pdf_bytes(html_document(body, title=f"对账单 {loan.number}"))
    services.audit_view(borrower, "borrower.statement_download", obj=loan, size=len(data))
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="statement-{loan.number}-{today:%Y%m%d}.pdf"'
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- repayment instructions -----------------------------------------------------------------------
def _qr_svg_data_uri(text: str) -> str:
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buf = io.BytesIO()
    img.save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


@borrower_required
def repay(request: HttpRequest) -> HttpResponse:
    borrower = _b(request)
    qr_text = str(conf.get("CREDO_BORROWER_REPAY_QR") or "")
    loans = [
        {"loan": loan, "next": selectors.next_due(loan)}
        for loan in selectors.loans(borrower.customer_ids)
        if loan.status in ("active", "overdue")
    ]
    services.audit_view(borrower, "borrower.view_repay")
    return render(
        request,
        "borrower/repay.html",
        {
            "account_name": conf.get("CREDO_BORROWER_REPAY_ACCOUNT_NAME") or _org_name(),
            "bank": conf.get("CREDO_BORROWER_REPAY_BANK"),
            "account_no": conf.get("CREDO_BORROWER_REPAY_ACCOUNT_NO"),
            "qr": _qr_svg_data_uri(qr_text) if qr_text else "",
            "loans": loans,
            "service_phone": conf.get("CREDO_BORROWER_SERVICE_PHONE"),
        },
    )


# --- early repayment ------------------------------------------------------------------------------
QUOTE_AMOUNTS = (
    "due_total",
    "outstanding_principal",
    "accrued_interest",
    "payoff_amount",
    "amount",
    "prepay_principal",
    "prepay_interest",
    "remaining_principal",
)


def _amount(raw: str) -> Decimal | None:
    raw = (raw or "").replace(",", "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise BorrowerError("金额格式不正确。") from None
    if value <= 0:
        raise BorrowerError("金额必须大于 0。")
    return value


@borrower_required
@require_http_methods(["GET", "POST"])
def prepay(request: HttpRequest, pk: int) -> HttpResponse:
    """提前还款试算 (GET with ``amount`` or none = full payoff) and 申请 (POST)."""
    borrower = _b(request)
    loan = selectors.loan_get(borrower.customer_ids, pk)
    data = request.POST if request.method == "POST" else request.GET
    ctx: dict[str, Any] = {"loan": loan, "amount": data.get("amount", ""), "today": clock.today()}
    status = 200
    try:
        amount = _amount(data.get("amount", ""))
        if request.method == "POST":
            preferred = None
            if data.get("preferred_date"):
                try:
                    preferred = dt.date.fromisoformat(data["preferred_date"])
                except ValueError:
                    raise BorrowerError("日期格式不正确。") from None
            req = services.prepay_request(
                borrower=borrower,
                loan=loan,
                amount=amount,
                preferred_date=preferred,
                note=data.get("note", ""),
            )
            messages.success(
                request,
                f"提前还款申请 {req.number} 已提交，客户经理审核后会与您联系。请勿在审核前自行转账。",
            )
            return redirect("borrower:home")
        if "quote" in data or amount is not None:
            quote = services.prepay_quote(borrower=borrower, loan=loan, amount=amount)
            ctx["quote"] = quote
            # yuan strings of the quote shown with thousands separators (the one money format)
            ctx["fmt"] = {
                k: format_fen(Money(v).fen)
                for k, v in quote.items()
                if k in QUOTE_AMOUNTS and v not in (None, "")
            }
    except BorrowerError as exc:
        ctx["error"] = exc.message
        status = _status(exc)
    return render(request, "borrower/prepay.html", ctx, status=status)


# --- contracts ------------------------------------------------------------------------------------
@borrower_required
def contracts(request: HttpRequest) -> HttpResponse:
    borrower = _b(request)
    rows = []
    for contract in selectors.contracts(borrower.customer_ids):
        # the signer's page at the e-signature vendor, stored when the contract was sent
        sign_url = contract.signer_url if contract.status == "sent" else ""
        rows.append({"contract": contract, "sign_url": sign_url})
    services.audit_view(borrower, "borrower.view_contracts")
    return render(request, "borrower/contracts.html", {"rows": rows})


@borrower_required
def contract_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from credo.contracts.rendering import read_pdf

    borrower = _b(request)
    contract = selectors.contract_get(borrower.customer_ids, pk)
    try:
        data = read_pdf(contract.pdf_path)
    except (FileNotFoundError, OSError, ValueError):
        raise Http404 from None
    services.audit_view(
        borrower, "contracts.pdf_download", obj=contract, sha256=contract.pdf_sha256, via="borrower"
    )
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{contract.number}.pdf"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


# --- documents for open applications --------------------------------------------------------------
@borrower_required
@require_http_methods(["GET", "POST"])
def application(request: HttpRequest, pk: int) -> HttpResponse:
    from credo.origination import documents
    from credo.origination.services import checklist, completeness

    borrower = _b(request)
    app = selectors.application_get(borrower.customer_ids, pk)
    if request.method == "POST":
        item = request.POST.get("item", "")
        upload = request.FILES.get("file")
        if upload is None:
            messages.error(request, "请选择要上传的文件。")
        else:
            data = documents.read_upload(upload, documents.rule_for(item).max_bytes)
            try:
                services.document_upload(
                    borrower=borrower, application=app, item=item, name=upload.name or "", data=data
                )
            except BorrowerError as exc:
                messages.error(request, f"“{item}”上传失败：{exc.message}")
            else:
                messages.success(request, f"“{item}”已上传，等待审核。")
        return redirect("borrower:application", pk=app.pk)
    services.audit_view(borrower, "borrower.view_application", obj=app)
    return render(
        request,
        "borrower/application.html",
        {"app": app, "rows": checklist(app), "progress": completeness(app)},
    )


# --- renewal --------------------------------------------------------------------------------------
@borrower_required
@require_http_methods(["GET", "POST"])
def renewal(request: HttpRequest) -> HttpResponse:
    borrower = _b(request)
    customers = selectors.customers(borrower.customer_ids)
    verdicts = [(c, *selectors.renewal_eligibility(c)) for c in customers]
    eligible = [c for c, ok, _reason in verdicts if ok]
    reasons = [(c, reason) for c, _ok, reason in verdicts]
    ctx: dict[str, Any] = {"customers": customers, "eligible": eligible, "reasons": reasons}
    status = 200
    if request.method == "POST":
        try:
            cid = int(request.POST.get("customer") or 0)
        except ValueError:
            cid = 0
        customer = next((c for c in customers if c.pk == cid), None)
        if customer is None:
            raise Http404
        try:
            req = services.renewal_request(
                borrower=borrower,
                customer=customer,
                amount=request.POST.get("amount", ""),
                months=request.POST.get("months", ""),
                note=request.POST.get("note", ""),
            )
        except BorrowerError as exc:
            ctx["error"] = exc.message
            ctx["form"] = request.POST
            status = _status(exc)
        else:
            messages.success(request, f"续贷申请 {req.number} 已提交，客户经理会尽快与您联系。")
            return redirect("borrower:home")
    return render(request, "borrower/renewal.html", ctx, status=status)
