"""Thin views: the recognise/confirm JSON endpoints of the form panel, and the request log."""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.ocr import selectors, services
from credo.ocr.errors import OcrServiceError
from credo.ocr.models import OcrRequest
from credo.ocr.providers import get_provider
from credo.origination.documents import read_upload


def _error(exc: OcrServiceError) -> JsonResponse:
    response = JsonResponse({"code": exc.code, "error": exc.message}, status=exc.status)
    if exc.status == 429:
        response["Retry-After"] = str(services.rate().seconds)
    return response


@login_required
@require_POST
def recognize(request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("image")
    if upload is None:
        return JsonResponse(
            {"code": "validation_error", "error": _("请选择证照图片。")}, status=422
        )
    try:
        outcome = services.ocr_recognize(
            actor=request.user,
            kind=request.POST.get("kind", ""),
            side=request.POST.get("side", "front"),
            purpose=request.POST.get("purpose", "customer"),
            filename=upload.name or "",
            data=read_upload(upload, services.max_image_bytes()),
        )
    except OcrServiceError as exc:
        return _error(exc)
    return JsonResponse(outcome.as_dict(), status=200 if not outcome.error else 422)


@login_required
@require_POST
def confirm(request: HttpRequest, pk: int) -> HttpResponse:
    keys = request.POST.getlist("keys")
    if not keys and request.content_type == "application/json":
        try:
            body = json.loads(request.body or b"{}")
            keys = [str(k) for k in body.get("keys", [])] if isinstance(body, dict) else []
        except ValueError:
            keys = []
    try:
        log = services.ocr_confirm(actor=request.user, request_id=pk, keys=keys)
    except OcrServiceError as exc:
        return _error(exc)
    return JsonResponse({"request_id": log.pk, "confirmed_fields": log.confirmed_fields})


@login_required
@permission_required("ocr.view_ocrrequest", raise_exception=True)
def request_list(request: HttpRequest) -> HttpResponse:
    params = {"kind": request.GET.get("kind", ""), "status": request.GET.get("status", "")}
    page = Paginator(selectors.ocr_request_list(params), 30).get_page(request.GET.get("page"))
    provider = get_provider()
    return render(
        request,
        "ocr/request_list.html",
        {
            "page": page,
            "params": params,
            "kinds": OcrRequest.Kind.choices,
            "statuses": OcrRequest.Status.choices,
            "provider": provider,
        },
    )
