"""Pages: my inbox, the outbox (发送记录), channel settings and the template editor."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.notify import selectors, services
from credo.notify.errors import NotifyError
from credo.notify.forms import ChannelForm, TemplateForm, TestSendForm
from credo.notify.models import Category, Channel, Kind, Message, MessageTemplate

VIEW = "notify.view_message"
MANAGE = "notify.manage_channels"
PAGE_SIZE = 20


# --- inbox (every logged-in user) ---------------------------------------------------------------
@login_required
def inbox_view(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("tab") == "unread"
    qs = selectors.inbox(request.user, unread_only=unread_only)
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/inbox.html",
        {
            "page": page,
            "tab": "unread" if unread_only else "all",
            "unread": selectors.unread_count(request.user),
        },
    )


@login_required
def inbox_open(request: HttpRequest, pk: int) -> HttpResponse:
    """Open a message: mark it read and follow its link (if it is a local one)."""
    msg = selectors.inbox_get(request.user, pk)
    services.message_mark_read(message=msg, user=request.user)
    if msg.url and url_has_allowed_host_and_scheme(msg.url, allowed_hosts={request.get_host()}):
        return redirect(msg.url)
    return redirect("notify:inbox")


@login_required
@require_POST
def inbox_read(request: HttpRequest, pk: int) -> HttpResponse:
    msg = selectors.inbox_get(request.user, pk)
    services.message_mark_read(message=msg, user=request.user)
    if request.headers.get("HX-Request"):
        return render(request, "notify/_inbox_row.html", {"m": msg})
    return redirect("notify:inbox")


@login_required
@require_POST
def inbox_read_all(request: HttpRequest) -> HttpResponse:
    n = services.inbox_mark_all_read(user=request.user)
    messages.success(request, _("已将 %(n)s 条消息标记为已读。") % {"n": n})
    return redirect("notify:inbox")


# --- outbox -------------------------------------------------------------------------------------
@login_required
@permission_required(VIEW, raise_exception=True)
def outbox_view(request: HttpRequest) -> HttpResponse:
    params = request.GET
    qs = selectors.outbox_list(request.user, params)
    no_status = {k: v for k, v in params.items() if k not in ("status", "page")}
    counts = selectors.outbox_counts(selectors.outbox_list(request.user, no_status))
    page = Paginator(qs, PAGE_SIZE).get_page(params.get("page"))
    return render(
        request,
        "notify/outbox.html",
        {
            "page": page,
            "params": params,
            "counts": counts,
            "status_cards": [(v, label, counts[v]) for v, label in Message.Status.choices],
            "statuses": Message.Status.choices,
            "kinds": Kind.choices,
            "categories": Category.choices,
        },
    )


@login_required
@permission_required(VIEW, raise_exception=True)
def message_detail(request: HttpRequest, pk: int) -> HttpResponse:
    msg = selectors.outbox_get(request.user, pk)
    return render(
        request,
        "notify/message_detail.html",
        {"m": msg, "attempts": msg.attempt_log.order_by("number", "id")},
    )


def _outbox_action(request: HttpRequest, pk: int, action: Any, done: str) -> HttpResponse:
    msg = selectors.outbox_get(request.user, pk)
    try:
        action(message=msg, actor=request.user)
    except NotifyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done)
    return redirect("notify:message_detail", pk=msg.pk)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def message_retry_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _outbox_action(request, pk, services.message_retry, _("消息已重新排队。"))


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def message_cancel_view(request: HttpRequest, pk: int) -> HttpResponse:
    return _outbox_action(request, pk, services.message_cancel, _("消息已取消。"))


# --- channels -----------------------------------------------------------------------------------
@login_required
@permission_required(MANAGE, raise_exception=True)
def channel_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "notify/channel_list.html",
        {"channels": Channel.objects.all(), "test_form": TestSendForm()},
    )


@login_required
@permission_required(MANAGE, raise_exception=True)
def channel_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(Channel, pk=pk) if pk else Channel()
    form = ChannelForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        services.channel_save(channel=form.apply(), secrets=form.secrets(), actor=request.user)
        messages.success(request, _("渠道已保存。"))
        return redirect("notify:channels")
    secrets_set = {name: bool(getattr(instance, name)) for name in services.SECRET_FIELDS}
    return render(
        request,
        "notify/channel_form.html",
        {"form": form, "channel": instance, "secrets_set": secrets_set},
    )


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def channel_test(request: HttpRequest, pk: int) -> HttpResponse:
    channel = get_object_or_404(Channel, pk=pk)
    address = request.POST.get("address", "")
    try:
        msg = services.message_send_test(channel=channel, address=address, actor=request.user)
    except NotifyError as exc:
        messages.error(request, exc.message)
        return redirect("notify:channels")
    messages.success(request, _("测试消息已提交发送。"))
    return redirect("notify:message_detail", pk=msg.pk)


# --- templates ----------------------------------------------------------------------------------
@login_required
@permission_required(MANAGE, raise_exception=True)
def template_list(request: HttpRequest) -> HttpResponse:
    services.install_templates()
    return render(
        request, "notify/template_list.html", {"templates": MessageTemplate.objects.all()}
    )


def _sample(tpl: MessageTemplate) -> dict[str, Any]:
    spec = services.template_spec(tpl.code)
    return dict(spec.sample) if spec else {}


@login_required
@permission_required(MANAGE, raise_exception=True)
def template_edit(request: HttpRequest, pk: int) -> HttpResponse:
    tpl = get_object_or_404(MessageTemplate, pk=pk)
    form = TemplateForm.for_template(tpl, _sample(tpl), request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.template_update(
                template=tpl,
                name=data["name"],
                subject=data["subject"],
                body=data["body"],
                channels=list(data["channels"]),
                actor=request.user,
            )
        except NotifyError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("模板已保存。"))
            return redirect("notify:template_edit", pk=tpl.pk)
    return render(
        request,
        "notify/template_form.html",
        {
            "tpl": tpl,
            "form": form,
            "has_default": services.template_spec(tpl.code) is not None,
            "test_form": TestSendForm(),
        },
    )


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def template_preview_view(request: HttpRequest, pk: int) -> HttpResponse:
    get_object_or_404(MessageTemplate, pk=pk)
    try:
        result = services.template_preview(
            subject=request.POST.get("subject", ""),
            body=request.POST.get("body", ""),
            sample=request.POST.get("sample", ""),
        )
        error = ""
    except NotifyError as exc:
        result, error = {}, exc.message
    return render(request, "notify/_preview.html", {"result": result, "error": error})


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def template_reset_view(request: HttpRequest, pk: int) -> HttpResponse:
    tpl = get_object_or_404(MessageTemplate, pk=pk)
    try:
        services.template_reset(template=tpl, actor=request.user)
    except NotifyError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已恢复系统默认内容。"))
    return redirect("notify:template_edit", pk=tpl.pk)


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def template_test(request: HttpRequest, pk: int) -> HttpResponse:
    tpl = get_object_or_404(MessageTemplate, pk=pk)
    form = TestSendForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择一个已启用的渠道。"))
        return redirect("notify:template_edit", pk=tpl.pk)
    sample: dict[str, Any] = _sample(tpl)
    try:
        extra = json.loads(request.POST.get("sample") or "{}")
        if isinstance(extra, dict):
            sample.update(extra)
    except ValueError:
        pass
    try:
        msg = services.message_send_test(
            channel=form.cleaned_data["channel"],
            address=form.cleaned_data["address"],
            template_code=tpl.code,
            context=sample,
            actor=request.user,
        )
    except NotifyError as exc:
        messages.error(request, exc.message)
        return redirect("notify:template_edit", pk=tpl.pk)
    messages.success(request, _("测试消息已提交发送。"))
    return redirect("notify:message_detail", pk=msg.pk)
