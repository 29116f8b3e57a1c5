"""Phone pages of field work (inspections, visit check-ins) and the PWA files (manifest, service
worker, offline page, icons). Thin: parse, call one service, render.

The phone posts the form through ``fetch`` with ``X-Credo-Sync: 1`` and gets JSON back (a
draft synced later too); without the header the same view answers like an ordinary form."""

from __future__ import annotations

import datetime as dt
import functools
import io
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_POST

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.customers.selectors import customers_for
from credo.fieldwork import checklist, selectors, services
from credo.fieldwork.errors import FieldworkError, InvalidState, InvalidSubmission, NotPermitted
from credo.fieldwork.models import Inspection, Visit

MAX_UPLOAD = services.MAX_PHOTO_BYTES


def _is_sync(request: HttpRequest) -> bool:
    return request.headers.get("X-Credo-Sync") == "1"


def _uploads(request: HttpRequest) -> list[services.Upload]:
    out = []
    for f in request.FILES.getlist("photos"):
        out.append(services.Upload(name=f.name or "photo.jpg", data=bytes(f.read(MAX_UPLOAD + 1))))
    return out


def _error_json(exc: FieldworkError) -> JsonResponse:
    status = 400
    if isinstance(exc, NotPermitted):
        status = 403
    elif isinstance(exc, InvalidState):
        status = 409
    return JsonResponse(
        {"ok": False, "code": exc.code, "message": exc.message, "errors": exc.errors},
        status=status,
    )


# --- inspections ----------------------------------------------------------------------------------
@login_required
@permission_required("fieldwork.view_inspection", raise_exception=True)
def inspection_list(request: HttpRequest) -> HttpResponse:
    today = clock.today()
    params = {"view": request.GET.get("view", "todo"), "mine": request.GET.get("mine", "")}
    qs = selectors.inspection_list(request.user, params, today)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    base = selectors.inspections_for(request.user)
    counts = {
        "todo": base.filter(status=Inspection.Status.PLANNED).count(),
        "overdue": base.filter(status=Inspection.Status.PLANNED, due_date__lt=today).count(),
        "failed": base.filter(
            status=Inspection.Status.COMPLETED, result=Inspection.Result.FAIL
        ).count(),
    }
    return render(
        request,
        "fieldwork/inspection_list.html",
        {"page": page, "params": params, "counts": counts, "today": today},
    )


def _form_context(request: HttpRequest, insp: Inspection, **extra: Any) -> dict[str, Any]:
    site = selectors.site_of(insp.customer)
    return {
        "insp": insp,
        "checklist": checklist.CHECKLIST,
        "answers": checklist.ANSWERS,
        "site": site,
        "min_photos": services.MIN_INSPECTION_PHOTOS,
        "max_photos": services.MAX_PHOTOS,
        "posted": request.POST if request.method == "POST" else {},
        "errors": {},
        **extra,
    }


@login_required
@permission_required("fieldwork.view_inspection", raise_exception=True)
def inspection_form(request: HttpRequest, pk: int) -> HttpResponseBase:
    insp = selectors.inspection_get(request.user, pk)
    if request.method == "POST":
        try:
            done, created = services.inspection_submit(
                inspection=insp,
                actor=request.user,
                answers={i.key: request.POST.get(f"item_{i.key}", "") for i in checklist.CHECKLIST},
                result=request.POST.get("result", ""),
                notes=request.POST.get("notes", ""),
                location=request.POST,
                photos=_uploads(request),
                client_uuid=request.POST.get("client_uuid") or None,
            )
        except FieldworkError as exc:
            if _is_sync(request):
                return _error_json(exc)
            if isinstance(exc, NotPermitted):
                raise PermissionDenied(exc.message) from None
            messages.error(request, exc.message)
            ctx = _form_context(request, insp, errors=exc.errors)
            return render(request, "fieldwork/inspection_form.html", ctx, status=400)
        url = reverse("fieldwork:inspection_detail", args=[done.pk])
        if _is_sync(request):
            return JsonResponse({"ok": True, "id": done.pk, "created": created, "url": url})
        messages.success(request, _("贷后检查已提交。"))
        return redirect(url)
    if insp.status != Inspection.Status.PLANNED:
        return redirect("fieldwork:inspection_detail", pk=insp.pk)
    if not services.may_perform(insp, request.user):
        raise PermissionDenied
    return render(request, "fieldwork/inspection_form.html", _form_context(request, insp))


@login_required
@permission_required("fieldwork.view_inspection", raise_exception=True)
def inspection_detail(request: HttpRequest, pk: int) -> HttpResponse:
    insp = selectors.inspection_get(request.user, pk)
    items = [
        {"label": i.label, "required": i.required, "answer": insp.answers.get(i.key, "")}
        for i in checklist.CHECKLIST
    ]
    return render(
        request,
        "fieldwork/inspection_detail.html",
        {
            "insp": insp,
            "items": items,
            "answer_labels": checklist.ANSWERS,
            "photos": list(insp.photos.all()),
            "site": selectors.site_of(insp.customer),
        },
    )


# --- visits ---------------------------------------------------------------------------------------
@login_required
@permission_required("fieldwork.view_visit", raise_exception=True)
def visit_list(request: HttpRequest) -> HttpResponse:
    days = request.GET.get("days", "30")
    try:
        n_days = max(1, min(366, int(days)))
    except ValueError:
        n_days = 30
    since = clock.today() - dt.timedelta(days=n_days - 1)
    qs = selectors.visits_for(request.user).filter(visited_at__date__gte=since)
    page = Paginator(
        qs.select_related("customer", "owner").order_by("-visited_at", "-id"), 30
    ).get_page(request.GET.get("page"))
    return render(
        request,
        "fieldwork/visit_list.html",
        {
            "page": page,
            "per_member": selectors.visit_counts(qs),
            "days": n_days,
            "since": since,
        },
    )


@login_required
@permission_required("fieldwork.add_visit", raise_exception=True)
def visit_form(request: HttpRequest) -> HttpResponseBase:
    scoped = customers_for(request.user)
    customer = None
    cid = request.POST.get("customer") or request.GET.get("customer")
    if cid and str(cid).isdigit():
        customer = scoped.filter(pk=int(cid)).first()
    if request.method == "POST":
        try:
            if customer is None:
                raise InvalidSubmission(errors={"customer": _("请选择客户。")})
            visit, created = services.visit_record(
                actor=request.user,
                customer=customer,
                purpose=request.POST.get("purpose", ""),
                notes=request.POST.get("notes", ""),
                location=request.POST,
                photos=_uploads(request),
                client_uuid=request.POST.get("client_uuid") or None,
            )
        except FieldworkError as exc:
            if _is_sync(request):
                return _error_json(exc)
            messages.error(request, exc.message)
            return render(
                request,
                "fieldwork/visit_form.html",
                _visit_ctx(request, scoped, customer, errors=exc.errors),
                status=400,
            )
        url = reverse("fieldwork:visit_detail", args=[visit.pk])
        if _is_sync(request):
            return JsonResponse({"ok": True, "id": visit.pk, "created": created, "url": url})
        messages.success(request, _("走访签到已提交。"))
        return redirect(url)
    return render(request, "fieldwork/visit_form.html", _visit_ctx(request, scoped, customer))


def _visit_ctx(
    request: HttpRequest, scoped: Any, customer: Any, errors: dict[str, str] | None = None
) -> dict[str, Any]:
    q = (request.GET.get("q") or "").strip()[:50]
    found = []
    if customer is None:
        qs = scoped.order_by("name")
        if q:
            qs = qs.filter(name__icontains=q)
        found = list(qs[:20])
    return {
        "customer": customer,
        "found": found,
        "q": q,
        "purposes": Visit.Purpose.choices,
        "site": selectors.site_of(customer) if customer else None,
        "max_photos": services.MAX_PHOTOS,
        "errors": errors or {},
        "posted": request.POST if request.method == "POST" else {},
    }


@login_required
@permission_required("fieldwork.view_visit", raise_exception=True)
def visit_detail(request: HttpRequest, pk: int) -> HttpResponse:
    visit = selectors.visit_get(request.user, pk)
    return render(
        request,
        "fieldwork/visit_detail.html",
        {
            "visit": visit,
            "photos": list(visit.photos.all()),
            "site": selectors.site_of(visit.customer),
        },
    )


# --- photos and coordinates -----------------------------------------------------------------------
@login_required
def photo(request: HttpRequest, pk: int) -> HttpResponseBase:
    from credo.origination import documents

    p = selectors.photo_get(request.user, pk)
    path = documents.path_of(p.stored_name)
    if not path.exists():
        raise Http404
    with transaction.atomic():
        audit_record(
            action="fieldwork.photo_view",
            actor=request.user,
            obj=p,
            metadata={"inspection": p.inspection_id, "visit": p.visit_id},
        )
    response = FileResponse(path.open("rb"), content_type=p.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_POST
@permission_required("fieldwork.set_customer_site", raise_exception=True)
def site_set(request: HttpRequest) -> HttpResponse:
    customer = customers_for(request.user).filter(pk=request.POST.get("customer") or 0).first()
    if customer is None:
        raise Http404
    try:
        services.customer_site_set(
            customer=customer,
            latitude=request.POST.get("latitude"),
            longitude=request.POST.get("longitude"),
            source=request.POST.get("source") or "manual",
            actor=request.user,
        )
        messages.success(request, _("客户登记地址坐标已保存。"))
    except FieldworkError as exc:
        messages.error(request, "；".join(exc.errors.values()) or exc.message)
    nxt = request.POST.get("next") or ""
    if not nxt.startswith("/") or nxt.startswith("//"):
        nxt = reverse("customers:detail", args=[customer.pk])
    return redirect(nxt)


# --- PWA ------------------------------------------------------------------------------------------
@cache_control(public=True, max_age=3600)
def manifest(request: HttpRequest) -> JsonResponse:
    icons = [
        {
            "src": reverse("fieldwork:icon", args=[size]),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "any maskable",
        }
        for size in (192, 512)
    ]
    data = {
        "name": "信贷管理",
        "short_name": "信贷管理",
        "description": _("Credo 信贷客户管理：贷后检查、走访签到与日常工作。"),
        "lang": "zh-CN",
        "start_url": reverse("core:home") + "?source=pwa",
        "scope": "/",
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#1d273b",
        "icons": icons,
    }
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = "application/manifest+json"
    return response


def service_worker(request: HttpRequest) -> HttpResponse:
    body = render_to_string("fieldwork/sw.js", {}, request=request)
    response = HttpResponse(body, content_type="text/javascript; charset=utf-8")
    # registered from /fieldwork/sw.js but controls the whole site (the offline page for every
    # page of the app); never cached by HTTP so a new version is picked up on the next load
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response


def offline(request: HttpRequest) -> HttpResponse:
    # the same for everyone (cached by the service worker): no user data in it
    return render(request, "fieldwork/offline.html", {})


@functools.lru_cache(maxsize=4)
def _icon_png(size: int) -> bytes:
    """The app icon, drawn here (no binary asset in the repository): a white bank building on
    the theme colour, with the maskable safe zone respected (content within the middle 80 %)."""
    from PIL import Image, ImageDraw

    s = size
    img = Image.new("RGB", (s, s), (29, 39, 59))
    d = ImageDraw.Draw(img)
    white = (255, 255, 255)
    accent = (32, 107, 196)
    d.ellipse([s * 0.14, s * 0.14, s * 0.86, s * 0.86], fill=accent)
    # roof
    d.polygon([(s * 0.28, s * 0.42), (s * 0.5, s * 0.27), (s * 0.72, s * 0.42)], fill=white)
    # columns
    for i in range(4):
        x = s * (0.32 + i * 0.1)
        d.rectangle([x, s * 0.45, x + s * 0.05, s * 0.64], fill=white)
    # base
    d.rectangle([s * 0.27, s * 0.66, s * 0.73, s * 0.71], fill=white)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


@cache_control(public=True, max_age=86400)
def icon(request: HttpRequest, size: int) -> HttpResponse:
    if size not in (192, 512):
        raise Http404
    return HttpResponse(_icon_png(size), content_type="image/png")
