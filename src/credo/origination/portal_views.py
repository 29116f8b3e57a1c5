"""客户上传门户: a tokenized, login-free page for one application (mobile friendly), and the
invitation page where a customer starts an application themselves.

An unknown token answers 404, an expired, used or revoked one 410; neither changes anything.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from credo.core.money import Money
from credo.lending.selectors import published_versions
from credo.origination import documents, selectors, services
from credo.origination.errors import OriginationError, PortalLinkInvalid, RateLimited
from credo.origination.forms import PortalApplicationForm


def _gone(request: HttpRequest, exc: PortalLinkInvalid) -> HttpResponse:
    return render(
        request, "origination/portal_gone.html", {"message": exc.message}, status=exc.status
    )


@never_cache
def portal_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = services.portal_resolve(token)
    except PortalLinkInvalid as exc:
        return _gone(request, exc)
    app = link.application
    assert app is not None  # an upload link always has its application (check constraint)
    rows = services.checklist(app)
    response = render(
        request,
        "origination/portal.html",
        {
            "app": app,
            "token": token,
            "link": link,
            "rows": rows,
            "progress": services.completeness(app),
            "notice": selectors.open_notice(app),
            "editable": app.status in services.EDITABLE_DOCS,
            "can_submit": app.status == "draft" and not services.outstanding_items(app),
        },
    )
    response["Referrer-Policy"] = "same-origin"  # token never leaks to other sites
    return response


@require_POST
def portal_upload(request: HttpRequest, token: str) -> HttpResponse:
    try:
        services.portal_resolve(token)
    except PortalLinkInvalid as exc:
        return _gone(request, exc)
    item = request.POST.get("item", "")
    upload = request.FILES.get("file")
    if upload is None:
        messages.error(request, _("请选择要上传的文件。"))
        return redirect("portal:page", token=token)
    data = documents.read_upload(upload, documents.rule_for(item).max_bytes)
    try:
        services.portal_upload(token=token, item=item, name=upload.name or "", data=data)
    except PortalLinkInvalid as exc:
        return _gone(request, exc)
    except OriginationError as exc:
        messages.error(request, _("“%(item)s”上传失败：%(e)s") % {"item": item, "e": exc.message})
    else:
        messages.success(request, _("“%(item)s”已上传，等待审核。") % {"item": item})
    return redirect("portal:page", token=token)


@require_POST
def portal_submit(request: HttpRequest, token: str) -> HttpResponse:
    try:
        app = services.portal_submit(token=token)
    except PortalLinkInvalid as exc:
        return _gone(request, exc)
    except OriginationError as exc:
        messages.error(request, exc.message)
        return redirect("portal:page", token=token)
    # Rendered directly: the link is used up now, a reload shows the "already used" page.
    return render(request, "origination/portal_done.html", {"app": app})


@never_cache
def portal_invite(request: HttpRequest, token: str) -> HttpResponse:
    """在线申请: the customer picks a product and terms; on success the invitation is used up
    and the customer lands on the upload page of the new application."""
    try:
        link = services.portal_invite_resolve(token)
    except PortalLinkInvalid as exc:
        return _gone(request, exc)
    form = PortalApplicationForm(request.POST or None, versions=published_versions())
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            app, _upload, upload_token = services.portal_invite_accept(
                token=token,
                product_version=data["product_version"],
                amount=Money(data["amount"]),
                months=data["months"],
                purpose=data["purpose"],
                guarantees=form.guarantees(),
            )
        except PortalLinkInvalid as exc:
            return _gone(request, exc)
        except OriginationError as exc:
            form.add_error(None, exc.message)
            status = 429 if isinstance(exc, RateLimited) else 200
        else:
            messages.success(
                request,
                _("申请 %(n)s 已创建，请上传以下资料后提交审核。") % {"n": app.number},
            )
            response: HttpResponse = redirect("portal:page", token=upload_token)
            response["Referrer-Policy"] = "same-origin"
            return response
    response = render(
        request,
        "origination/portal_invite.html",
        {"form": form, "link": link, "customer": link.customer, "token": token},
        status=status,
    )
    response["Referrer-Policy"] = "same-origin"  # token never leaks to other sites
    return response
