"""Pages of Webhook 推送: endpoints, their delivery log, a delivery's detail (thin views)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.webhooks import selectors, services
from credo.webhooks.errors import WebhookError
from credo.webhooks.forms import EndpointForm
from credo.webhooks.models import WebhookDelivery, WebhookEndpoint

MANAGE = "webhooks.manage_webhookendpoint"
PAGE_SIZE = 20


def _form_kwargs(form: EndpointForm) -> dict[str, Any]:
    data = form.cleaned_data
    return {
        "name": data["name"],
        "url": data["url"],
        "description": data.get("description") or "",
        "event_types": form.chosen_types(),
        "timeout_seconds": data["timeout_seconds"],
        "max_attempts": data["max_attempts"],
        "disable_after_failures": data["disable_after_failures"],
    }


@login_required
@permission_required(MANAGE, raise_exception=True)
def endpoint_list(request: HttpRequest) -> HttpResponse:
    return render(request, "webhooks/endpoint_list.html", {"endpoints": selectors.endpoint_list()})


def _detail(request: HttpRequest, endpoint: WebhookEndpoint, **extra: Any) -> HttpResponse:
    params = request.GET
    qs = selectors.delivery_list(params, endpoint)
    no_status = {k: v for k, v in params.items() if k not in ("status", "page")}
    counts = selectors.status_counts(selectors.delivery_list(no_status, endpoint))
    page = Paginator(qs, PAGE_SIZE).get_page(params.get("page"))
    labels = dict(services.event_type_choices())
    subscribed = [labels.get(t, t) for t in endpoint.event_types if t != "all"]
    response = render(
        request,
        "webhooks/endpoint_detail.html",
        {
            "endpoint": endpoint,
            "page": page,
            "params": params,
            "status_cards": [(v, label, counts[v]) for v, label in WebhookDelivery.Status.choices],
            "statuses": WebhookDelivery.Status.choices,
            "subscribed": subscribed,
            "backoff": services.backoff_minutes(),
            **extra,
        },
    )
    if extra.get("secret"):
        add_never_cache_headers(response)  # a page showing the secret is never stored
    return response


@login_required
@permission_required(MANAGE, raise_exception=True)
def endpoint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _detail(request, get_object_or_404(WebhookEndpoint, pk=pk))


@login_required
@permission_required(MANAGE, raise_exception=True)
def endpoint_create(request: HttpRequest) -> HttpResponse:
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.endpoint_create(actor=request.user, **_form_kwargs(form))
        except WebhookError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _(
                    "端点已创建。请复制签名密钥配置到接收方；之后只能在本页“显示密钥”查看（会记录审计日志）。"
                ),
            )
            # rendered, not redirected: the secret is never put in a URL, session or log
            return _detail(request, endpoint, secret=secret)
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": None})


@login_required
@permission_required(MANAGE, raise_exception=True)
def endpoint_edit(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    form = EndpointForm(request.POST or None, endpoint=endpoint)
    if request.method == "POST" and form.is_valid():
        try:
            services.endpoint_update(endpoint=endpoint, actor=request.user, **_form_kwargs(form))
        except WebhookError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("端点已保存。"))
            return redirect("webhooks:endpoint_detail", pk=endpoint.pk)
    return render(request, "webhooks/endpoint_form.html", {"form": form, "endpoint": endpoint})


def _act(request: HttpRequest, pk: int, action: Any, done: str, **kwargs: Any) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    try:
        action(endpoint=endpoint, actor=request.user, **kwargs)
    except WebhookError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("webhooks:endpoint_detail", pk=endpoint.pk)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def endpoint_enable(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, services.endpoint_enable, _("端点已启用。"))


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def endpoint_disable(request: HttpRequest, pk: int) -> HttpResponse:
    reason = request.POST.get("reason", "")[:200]
    return _act(request, pk, services.endpoint_disable, _("端点已停用。"), reason=reason)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def endpoint_test(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    try:
        delivery = services.webhook_send_test(endpoint=endpoint, actor=request.user)
    except WebhookError as exc:
        messages.error(request, exc.message)
        return redirect("webhooks:endpoint_detail", pk=endpoint.pk)
    messages.success(request, _("测试事件已提交发送。"))
    return redirect("webhooks:delivery_detail", pk=delivery.pk)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def endpoint_secret(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    secret = services.endpoint_secret_reveal(endpoint=endpoint, actor=request.user)
    return _detail(request, endpoint, secret=secret)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def endpoint_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    endpoint = get_object_or_404(WebhookEndpoint, pk=pk)
    secret = services.endpoint_secret_rotate(endpoint=endpoint, actor=request.user)
    messages.success(request, _("已生成新的签名密钥，请更新接收方配置。"))
    endpoint.refresh_from_db()
    return _detail(request, endpoint, secret=secret)


@login_required
@permission_required(MANAGE, raise_exception=True)
def delivery_detail(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(
        WebhookDelivery.objects.select_related("endpoint", "redelivery_of"), pk=pk
    )
    attempts = list(delivery.attempt_log.order_by("-number", "-id"))
    return render(
        request,
        "webhooks/delivery_detail.html",
        {
            "d": delivery,
            "endpoint": delivery.endpoint,
            "attempts": attempts,
            "last_headers": attempts[0].request_headers if attempts else {},
            "payload_json": json.dumps(delivery.payload, ensure_ascii=False, indent=2),
            "redeliveries": delivery.redeliveries.order_by("-id")[:20],
        },
    )


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def delivery_redeliver(request: HttpRequest, pk: int) -> HttpResponse:
    delivery = get_object_or_404(WebhookDelivery, pk=pk)
    try:
        new = services.delivery_redeliver(delivery=delivery, actor=request.user)
    except WebhookError as exc:
        messages.error(request, exc.message)
        return redirect("webhooks:delivery_detail", pk=delivery.pk)
    messages.success(request, _("已重新投递（新投递 #%(n)s）。") % {"n": new.pk})
    return redirect("webhooks:delivery_detail", pk=new.pk)
