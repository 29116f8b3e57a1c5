"""Contract pages: the contract card page, PDF download (audited), send, simulated signing,
and the template editor (each save is a new version)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.contracts import rendering, selectors, services
from credo.contracts.errors import ContractError
from credo.contracts.forms import TemplateForm
from credo.contracts.models import Contract
from credo.core.audit.services import audit_record


def _back(request: HttpRequest, contract: Contract) -> HttpResponse:
    nxt = request.POST.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(
        nxt, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(nxt)
    return redirect("contracts:detail", contract.pk)


@login_required
@permission_required("contracts.view_contract", raise_exception=True)
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(request.user, pk)
    return render(
        request,
        "contracts/contract_detail.html",
        {"contract": contract, "events": contract.events.select_related("actor")},
    )


def _pdf_download(
    request: HttpRequest, contract: Contract, *, path: str, sha256: str, action: str, filename: str
) -> HttpResponse:
    """A stored contract PDF as an attachment, audited (the generated one or the vendor's signed
    copy)."""
    try:
        data = rendering.read_pdf(path)
    except (FileNotFoundError, OSError):
        raise Http404 from None
    with transaction.atomic():
        audit_record(action=action, actor=request.user, obj=contract, metadata={"sha256": sha256})
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@permission_required("contracts.view_contract", raise_exception=True)
def contract_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(request.user, pk)
    return _pdf_download(
        request,
        contract,
        path=contract.pdf_path,
        sha256=contract.pdf_sha256,
        action="contracts.pdf_download",
        filename=f"{contract.number}.pdf",
    )


@require_POST
@login_required
@permission_required("contracts.send_contract", raise_exception=True)
def contract_send(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(request.user, pk)
    try:
        services.contract_send(contract=contract, actor=request.user)
        messages.success(request, _("合同已发送签署。"))
    except ContractError as exc:
        messages.error(request, exc.message)
    return _back(request, contract)


@login_required
@permission_required("contracts.view_contract", raise_exception=True)
def contract_signed_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The PDF signed at the e-signature vendor (downloaded after its "signed" callback)."""
    contract = selectors.contract_get(request.user, pk)
    if not contract.signed_pdf_path:
        raise Http404
    return _pdf_download(
        request,
        contract,
        path=contract.signed_pdf_path,
        sha256=contract.signed_pdf_sha256,
        action="contracts.signed_pdf_download",
        filename=f"{contract.number}-signed.pdf",
    )


@require_POST
@login_required
@permission_required("contracts.send_contract", raise_exception=True)
def contract_signer_url(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(request.user, pk)
    try:
        services.contract_signer_url_refresh(contract=contract, actor=request.user)
        messages.success(request, _("已重新获取签署链接。"))
    except ContractError as exc:
        messages.error(request, exc.message)
    return _back(request, contract)


@require_POST
@login_required
@permission_required("contracts.send_contract", raise_exception=True)
def contract_simulate(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(request.user, pk)
    outcome = request.POST.get("outcome", "")
    try:
        services.contract_simulate(contract=contract, outcome=outcome, actor=request.user)
        messages.success(request, _("已模拟签署。") if outcome == "signed" else _("已模拟拒签。"))
    except ContractError as exc:
        messages.error(request, exc.message)
    return _back(request, contract)


@require_POST
@login_required
@permission_required("contracts.send_contract", raise_exception=True)
def contract_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(request.user, pk)
    try:
        services.contract_cancel(
            contract=contract, actor=request.user, reason=request.POST.get("reason", "")
        )
        messages.success(request, _("合同已作废。"))
    except ContractError as exc:
        messages.error(request, exc.message)
    return _back(request, contract)


# --- templates -----------------------------------------------------------------------------
@login_required
@permission_required("contracts.change_contracttemplate", raise_exception=True)
def template_list(request: HttpRequest) -> HttpResponse:
    for code in services.DEFAULT_TEMPLATES:
        services.template_current(code)
    return render(request, "contracts/template_list.html", {"templates": selectors.template_list()})


@login_required
@permission_required("contracts.change_contracttemplate", raise_exception=True)
def template_edit(request: HttpRequest, code: str) -> HttpResponse:
    try:
        current = services.template_current(code)
    except ContractError:
        raise Http404 from None
    preview = None
    if request.method == "POST":
        form = TemplateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if request.POST.get("action") == "preview":
                    preview = services.template_preview(data["body"])
                else:
                    template = services.template_update(
                        code=code,
                        name=data["name"],
                        body=data["body"],
                        note=data["note"],
                        actor=request.user,
                    )
                    messages.success(
                        request, _("已保存为新版本 v%(v)s。") % {"v": template.version}
                    )
                    return redirect("contracts:template_edit", code)
            except ContractError as exc:
                form.add_error("body", exc.message)
    else:
        form = TemplateForm(initial={"name": current.name, "body": current.body})
    return render(
        request,
        "contracts/template_edit.html",
        {
            "form": form,
            "current": current,
            "versions": selectors.template_versions(code)[:20],
            "placeholders": rendering.PLACEHOLDERS,
            "preview": preview,
        },
    )
