"""Pages of the 企业微信 / 钉钉 apps: configuration (测试连接, 同步), platform login, the card
confirmation page and the 企业微信 callback URL."""

from __future__ import annotations

import re
from typing import Any

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from credo.approvals.errors import ApprovalError
from credo.core.audit.services import audit_record
from credo.imapps import services, signing, wecom_crypto
from credo.imapps.errors import ImAppError
from credo.imapps.forms import CardActForm, ImAppForm
from credo.imapps.models import Platform, SyncRun

MANAGE = "imapps.manage_imapps"
LINK_REASONS = {
    "expired": _("链接已过期，请在 Credo 中处理该审批。"),
    "bad_signature": _("链接签名无效，已拒绝并记录。"),
    "used": _("该链接已使用过。"),
    "other_user": _("该链接不属于当前登录的用户。"),
}


def _platform(platform: str) -> str:
    if platform not in Platform.values:
        raise Http404
    return platform


@login_required
@permission_required(MANAGE, raise_exception=True)
def index(request: HttpRequest) -> HttpResponse:
    apps = [services.app_get(p) for p in Platform.values]
    runs = Paginator(SyncRun.objects.select_related("actor"), 20).get_page(request.GET.get("page"))
    return render(request, "imapps/index.html", {"apps": apps, "page_obj": runs})


@login_required
@permission_required(MANAGE, raise_exception=True)
def edit(request: HttpRequest, platform: str) -> HttpResponse:
    app = services.app_get(_platform(platform))
    form = ImAppForm(request.POST or None, instance=app)
    if request.method == "POST" and form.is_valid():
        app = form.save(commit=False)
        app.role_rules = form.cleaned_data["rules_text"]
        try:
            services.app_save(app=app, secrets=form.secrets(), actor=request.user)
        except ImAppError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("配置已保存。"))
            return redirect("imapps:index")
    return render(request, "imapps/edit.html", {"form": form, "app": app})


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def test(request: HttpRequest, platform: str) -> HttpResponse:
    app = services.app_get(_platform(platform))
    ok, message = services.app_test(app=app, actor=request.user)
    (messages.success if ok else messages.error)(request, message)
    return redirect("imapps:index")


@login_required
@permission_required(MANAGE, raise_exception=True)
@require_POST
def sync(request: HttpRequest, platform: str) -> HttpResponse:
    run = services.sync_run(platform=_platform(platform), actor=request.user)
    if run.status == SyncRun.Status.DONE:
        c = run.counts
        messages.success(
            request,
            _("同步完成：%(m)s 名成员，新建用户 %(c)s，更新 %(u)s，停用 %(d)s。")
            % {
                "m": c.get("members", 0),
                "c": c.get("users_created", 0),
                "u": c.get("users_updated", 0),
                "d": c.get("users_deactivated", 0),
            },
        )
    else:
        messages.error(request, _("同步失败：%(e)s") % {"e": run.error})
    return redirect("imapps:index")


# --- login --------------------------------------------------------------------------------------
def _safe_next(request: HttpRequest, value: str) -> str:
    if value and url_has_allowed_host_and_scheme(value, {request.get_host()}, request.is_secure()):
        return value
    return "/"


def _callback_uri(request: HttpRequest, app: Any, platform: str) -> str:
    path = reverse("imapps:callback", args=[platform])
    if app.public_url:
        return app.public_url.rstrip("/") + path
    return request.build_absolute_uri(path)


def login(request: HttpRequest, platform: str) -> HttpResponse:
    app = services.app_get(_platform(platform))
    if not app.enabled or not app.configured:
        return _refused(request, _("该登录方式未启用。"))
    from credo.imapps.clients import client_for

    state = signing.state_make(
        platform=platform, next_url=_safe_next(request, request.GET.get("next", ""))
    )
    return redirect(
        client_for(app).login_redirect(
            redirect_uri=_callback_uri(request, app, platform),
            state=state,
            in_app="wxwork" in request.headers.get("User-Agent", "").lower(),
        )
    )


def _refused(request: HttpRequest, message: str) -> HttpResponse:
    return render(request, "imapps/refused.html", {"message": message}, status=403)


def callback(request: HttpRequest, platform: str) -> HttpResponse:
    _platform(platform)
    state = signing.state_read(request.GET.get("state", ""), platform=platform)
    if state is None:
        audit_record(
            action="imapps.login_refused",
            object_type="accounts.user",
            metadata={"platform": platform, "reason": "bad_state"},
        )
        return _refused(request, _("登录请求无效或已过期，请重新扫码登录。"))
    code = request.GET.get("code") or request.GET.get("authCode") or ""
    try:
        user = services.login_resolve(platform=platform, code=code, request=request)
    except ImAppError as exc:
        return _refused(request, exc.message)
    auth_login(request, user, backend="credo.accounts.backends.RoleBackend")
    from django_otp import user_has_device

    target = _safe_next(request, state.get("n", ""))
    if user_has_device(user):  # the second factor is still required
        return redirect(f"{reverse('accounts:otp_verify')}?{urlencode({'next': target})}")
    return redirect(target)


# --- approval card ------------------------------------------------------------------------------
def card_act(request: HttpRequest, token: str) -> HttpResponse:
    if not request.user.is_authenticated:
        try:
            data = signing.link_read(token)
        except signing.LinkInvalid as exc:
            services._link_refused(None, exc.reason)
            return _refused(request, LINK_REASONS[exc.reason])
        query = urlencode({"next": request.get_full_path()})
        return redirect(f"{reverse('imapps:login', args=[data['p']])}?{query}")
    try:
        data = services.card_link_check(token=token, user=request.user)
    except signing.LinkInvalid as exc:
        return _refused(request, LINK_REASONS[exc.reason])
    from credo.approvals import selectors as approval_selectors

    task = approval_selectors.task_get(request.user, data["t"])
    form = CardActForm(request.POST or None, initial={"action": data["a"]})
    if request.method == "POST" and form.is_valid():
        try:
            services.card_act(
                token=token,
                user=request.user,
                action=form.cleaned_data["action"],
                comment=form.cleaned_data.get("comment") or "",
            )
        except ApprovalError as exc:
            form.add_error(None, exc.message)
        except signing.LinkInvalid as exc:
            return _refused(request, LINK_REASONS[exc.reason])
        else:
            done = _("已同意。") if form.cleaned_data["action"] == "approve" else _("已驳回。")
            return render(request, "imapps/card_done.html", {"task": task, "message": done})
    return render(
        request, "imapps/card_act.html", {"task": task, "form": form, "action": data["a"]}
    )


# --- 企业微信 callback URL ------------------------------------------------------------------------
_ENCRYPT = re.compile(r"<Encrypt><!\[CDATA\[(.*?)\]\]></Encrypt>", re.S)


@csrf_exempt
def wecom_event(request: HttpRequest) -> HttpResponse:
    """The app's 接收消息 URL: GET verifies (echostr), POST accepts events after verification."""
    app = services.app_get(Platform.WECOM)
    ts, nonce = request.GET.get("timestamp", ""), request.GET.get("nonce", "")
    sig = request.GET.get("msg_signature", "")
    if request.method == "GET":
        encrypted = request.GET.get("echostr", "")
    else:
        match = _ENCRYPT.search(request.body.decode("utf-8", errors="replace"))
        encrypted = match.group(1) if match else ""
    if not app.callback_token or not wecom_crypto.verify(
        app.callback_token, ts, nonce, encrypted, sig
    ):
        audit_record(
            action="imapps.callback_refused",
            object_type="imapps.imapp",
            object_id=app.pk,
            metadata={"platform": "wecom", "reason": "bad_signature"},
        )
        return HttpResponseForbidden("invalid signature")
    try:
        plain = wecom_crypto.decrypt(app.callback_aes_key, encrypted, app.corp_id)
    except (wecom_crypto.CallbackError, ValueError):
        return HttpResponseForbidden("cannot decrypt")
    if request.method == "GET":
        return HttpResponse(plain, content_type="text/plain")
    return HttpResponse("success", content_type="text/plain")
