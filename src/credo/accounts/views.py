from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth.decorators import login_required, permission_required
from django.contrib.auth.views import LoginView
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from credo.accounts import services
from credo.accounts.errors import AccountsError
from credo.accounts.forms import (
    LoginForm,
    OrgUnitForm,
    OTPCodeForm,
    PasswordChangeForm,
    RoleForm,
    UserForm,
    assignable_permissions,
)
from credo.accounts.lockout import LOGIN_BUCKET, login_ip_blocked, login_ip_rate
from credo.accounts.models import FieldPermission, OrgUnit, Role, User
from credo.core.audit.services import audit_record
from credo.core.ratelimit import audit_throttled
from credo.core.sensitive import sensitive_fields

PAGE_SIZE = 20


def _safe_next(request: HttpRequest, default: str) -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}, request.is_secure()):
        return nxt
    return default


# --- login / logout -------------------------------------------------------------------------


class CredoLoginView(LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        # Refused before the password is checked: an address over its failed-login budget
        # learns nothing more (per-username lockout is axes'; this one stops spraying).
        if login_ip_blocked(request):
            rate = login_ip_rate()
            audit_throttled(request, bucket=LOGIN_BUCKET, rate=rate)
            minutes = max(1, rate.seconds // 60)
            response = render(
                request,
                "429.html",
                {
                    "message": _("此网络地址登录失败次数过多，请 %(n)d 分钟后再试，或联系管理员。")
                    % {"n": minutes}
                },
                status=429,
            )
            response["Retry-After"] = str(rate.seconds)
            return response
        return super().post(request, *args, **kwargs)

    def get_success_url(self) -> str:
        from django_otp import user_has_device

        url = super().get_success_url()
        if user_has_device(self.request.user):
            return f"{reverse('accounts:otp_verify')}?{urlencode({'next': url})}"
        return url


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("accounts:login")


def lockout_response(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    return render(request, "accounts/locked.html", status=403)


# --- two-factor authentication --------------------------------------------------------------


def _qr_data_uri(text: str) -> str:
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    buf = io.BytesIO()
    img.save(buf)
    return "data:image/svg+xml;base64," + base64.b64encode(buf.getvalue()).decode()


@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    from django_otp import login as otp_login
    from django_otp import user_has_device
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = cast(Any, request.user)
    if user_has_device(user):
        messages.info(request, _("您已启用两步验证。"))
        return redirect("accounts:profile")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)
    form = OTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            with transaction.atomic():
                device.confirmed = True
                device.save(update_fields=["confirmed"])
                audit_record(action="otp.enable", actor=user, obj=user)
            otp_login(request, device)
            messages.success(request, _("两步验证已启用。"))
            return redirect("accounts:profile")
        form.add_error("code", _("验证码不正确，请重试。"))
    secret = base64.b32encode(device.bin_key).decode()
    return render(
        request,
        "accounts/otp_setup.html",
        {"form": form, "secret": secret, "qr": _qr_data_uri(device.config_url)},
    )


@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    from django_otp import devices_for_user
    from django_otp import login as otp_login

    user = cast(Any, request.user)
    nxt = _safe_next(request, reverse("core:home"))
    devices = list(devices_for_user(user, confirmed=True))
    if not devices:
        return redirect(nxt)
    if user.is_verified():
        return redirect(nxt)
    form = OTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in devices:
            if device.verify_token(form.cleaned_data["code"]):
                otp_login(request, device)
                audit_record(action="otp.verify", actor=user, obj=user)
                return redirect(nxt)
        audit_record(action="otp.verify_failed", actor=user, obj=user)
        form.add_error("code", _("验证码不正确，请重试。"))
    return render(request, "accounts/otp_verify.html", {"form": form, "next": nxt})


@login_required
def otp_disable(request: HttpRequest) -> HttpResponse:
    from django_otp import devices_for_user

    user = cast(Any, request.user)
    devices = list(devices_for_user(user, confirmed=True))
    if not devices:
        return redirect("accounts:profile")
    form = OTPCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if any(d.verify_token(form.cleaned_data["code"]) for d in devices):
            with transaction.atomic():
                for device in devices_for_user(user, confirmed=None):
                    device.delete()
                audit_record(action="otp.disable", actor=user, obj=user)
            messages.success(request, _("两步验证已关闭。"))
            return redirect("accounts:profile")
        form.add_error("code", _("验证码不正确，请重试。"))
    return render(request, "accounts/otp_disable.html", {"form": form})


# --- own profile ----------------------------------------------------------------------------


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    from django_otp import user_has_device

    user = cast(Any, request.user)
    form = PasswordChangeForm(user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.user_set_password(
                user=user, password=form.cleaned_data["new_password1"], actor=user
            )
        except AccountsError as exc:
            form.add_error("new_password1", exc.message)
        else:
            update_session_auth_hash(request, user)
            messages.success(request, _("密码已修改。"))
            return redirect("accounts:profile")
    return render(
        request,
        "accounts/profile.html",
        {"form": form, "has_otp": user_has_device(user), "roles": user.roles.all()},
    )


# --- users ----------------------------------------------------------------------------------


def _page(request: HttpRequest, qs: Any) -> Any:
    return Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
@permission_required("accounts.manage_users", raise_exception=True)
def user_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    qs = User.objects.select_related("org_unit").prefetch_related("roles").order_by("username")
    if q:
        qs = qs.filter(
            Q(username__icontains=q) | Q(display_name__icontains=q) | Q(employee_no__icontains=q)
        )
    return render(request, "accounts/user_list.html", {"page": _page(request, qs), "q": q})


@login_required
@permission_required("accounts.manage_users", raise_exception=True)
def user_create(request: HttpRequest) -> HttpResponse:
    form = UserForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, password = services.user_create(
                username=data["username"],
                display_name=data["display_name"],
                org_unit=data["org_unit"],
                roles=data["roles"],
                password=data["password"] or None,
                email=data["email"],
                employee_no=data["employee_no"],
                actor=request.user,
            )
        except AccountsError as exc:
            form.add_error(None, exc.message)
        else:
            if data["password"]:
                messages.success(request, _("用户“%(name)s”已创建。") % {"name": user})
            else:
                messages.success(
                    request,
                    _("用户“%(name)s”已创建，初始密码：%(pwd)s（仅显示一次）")
                    % {"name": user, "pwd": password},
                )
            return redirect("accounts:user_list")
    return render(
        request,
        "accounts/form.html",
        {"form": form, "title": _("新建用户"), "back": reverse("accounts:user_list")},
    )


@login_required
@permission_required("accounts.manage_users", raise_exception=True)
def user_edit(request: HttpRequest, pk: int) -> HttpResponse:
    user = get_object_or_404(User, pk=pk)
    initial = {
        "username": user.username,
        "display_name": user.display_name,
        "employee_no": user.employee_no,
        "email": user.email,
        "org_unit": user.org_unit,
        "roles": list(user.roles.all()),
        "is_active": user.is_active,
    }
    form = UserForm(request.POST or None, initial=initial, editing=user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            with transaction.atomic():
                services.user_update(
                    user=user,
                    display_name=data["display_name"],
                    org_unit=data["org_unit"],
                    roles=data["roles"],
                    email=data["email"],
                    employee_no=data["employee_no"],
                    actor=request.user,
                )
                services.user_set_active(user=user, is_active=data["is_active"], actor=request.user)
        except AccountsError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("用户“%(name)s”已保存。") % {"name": user})
            return redirect("accounts:user_list")
    return render(
        request,
        "accounts/form.html",
        {
            "form": form,
            "title": _("编辑用户：%(name)s") % {"name": user},
            "back": reverse("accounts:user_list"),
        },
    )


# --- roles ----------------------------------------------------------------------------------


@login_required
@permission_required("accounts.manage_roles", raise_exception=True)
def role_list(request: HttpRequest) -> HttpResponse:
    q = request.GET.get("q", "").strip()
    qs = Role.objects.all().order_by("id")
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q))
    from django.db.models import Count

    qs = qs.annotate(
        user_count=Count("users", distinct=True), perm_count=Count("permissions", distinct=True)
    )
    return render(request, "accounts/role_list.html", {"page": _page(request, qs), "q": q})


def _role_form_view(request: HttpRequest, role: Role | None) -> HttpResponse:
    initial: dict[str, Any] = {}
    if role is not None:
        initial = {
            "code": role.code,
            "name": role.name,
            "description": role.description,
            "data_scope": role.data_scope,
            "permissions": list(role.permissions.all()),
        }
    form = RoleForm(request.POST or None, initial=initial, role=role)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if role is None:
                saved = services.role_create(
                    code=data["code"],
                    name=data["name"],
                    description=data["description"],
                    data_scope=data["data_scope"],
                    permissions=data["permissions"],
                    actor=request.user,
                )
            else:
                # Permissions the form does not offer (framework apps) are kept as they are.
                hidden = role.permissions.exclude(pk__in=assignable_permissions())
                saved = services.role_update(
                    role=role,
                    code=data["code"],
                    name=data["name"],
                    description=data["description"],
                    data_scope=data["data_scope"],
                    permissions=[*data["permissions"], *hidden],
                    actor=request.user,
                )
        except AccountsError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("角色“%(name)s”已保存。") % {"name": saved})
            return redirect("accounts:role_list")
    title = _("新建角色") if role is None else _("编辑角色：%(name)s") % {"name": role}
    return render(request, "accounts/role_form.html", {"form": form, "title": title, "role": role})


@login_required
@permission_required("accounts.manage_roles", raise_exception=True)
def role_create(request: HttpRequest) -> HttpResponse:
    return _role_form_view(request, None)


@login_required
@permission_required("accounts.manage_roles", raise_exception=True)
def role_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _role_form_view(request, get_object_or_404(Role, pk=pk))


@login_required
@permission_required("accounts.manage_roles", raise_exception=True)
def field_permissions(request: HttpRequest) -> HttpResponse:
    """Matrix role × sensitive field; checkboxes named ``view:<role>:<key>``/``edit:...``."""
    roles = list(Role.objects.order_by("id"))
    fields = sensitive_fields()
    current = {(fp.role_id, fp.field_key): fp for fp in FieldPermission.objects.all()}
    if request.method == "POST":
        try:
            with transaction.atomic():
                for role in roles:
                    for sf in fields:
                        services.field_permission_set(
                            role=role,
                            field_key=sf.key,
                            can_view=f"view:{role.pk}:{sf.key}" in request.POST,
                            can_edit=f"edit:{role.pk}:{sf.key}" in request.POST,
                            actor=request.user,
                        )
        except AccountsError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("字段权限已保存。"))
        return redirect("accounts:field_permissions")
    rows = []
    for sf in fields:
        cells = []
        for role in roles:
            fp = current.get((role.pk, sf.key))
            cells.append(
                {
                    "role": role,
                    "view": bool(fp and fp.can_view),
                    "edit": bool(fp and fp.can_edit),
                }
            )
        rows.append({"field": sf, "cells": cells})
    return render(request, "accounts/field_permissions.html", {"roles": roles, "rows": rows})


# --- org units ------------------------------------------------------------------------------


def _tree(units: Sequence[OrgUnit]) -> list[tuple[OrgUnit, int]]:
    children: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        children.setdefault(unit.parent_id, []).append(unit)
    out: list[tuple[OrgUnit, int]] = []

    def walk(parent: int | None, depth: int) -> None:
        for unit in sorted(children.get(parent, []), key=lambda u: u.code):
            out.append((unit, depth))
            walk(unit.pk, depth + 1)

    walk(None, 0)
    return out


@login_required
@permission_required("accounts.manage_org_units", raise_exception=True)
def orgunit_list(request: HttpRequest) -> HttpResponse:
    from django.db.models import Count

    q = request.GET.get("q", "").strip()
    units = list(OrgUnit.objects.annotate(member_count=Count("members")).order_by("code"))
    rows = [(u, 0) for u in units if q.lower() in (u.code + u.name).lower()] if q else _tree(units)
    return render(
        request,
        "accounts/orgunit_list.html",
        {"rows": [{"unit": u, "depth": d, "pad": min(d * 3, 5)} for u, d in rows], "q": q},
    )


def _orgunit_form_view(request: HttpRequest, unit: OrgUnit | None) -> HttpResponse:
    initial: dict[str, Any] = {}
    if unit is not None:
        initial = {
            "code": unit.code,
            "name": unit.name,
            "kind": unit.kind,
            "parent": unit.parent,
            "region_code": unit.region_code,
            "is_active": unit.is_active,
        }
    form = OrgUnitForm(request.POST or None, initial=initial, unit=unit)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if unit is None:
                saved = services.orgunit_create(
                    code=data["code"],
                    name=data["name"],
                    kind=data["kind"],
                    parent=data["parent"],
                    region_code=data["region_code"],
                    actor=request.user,
                )
            else:
                saved = services.orgunit_update(
                    unit=unit,
                    name=data["name"],
                    parent=data["parent"],
                    region_code=data["region_code"],
                    is_active=data["is_active"],
                    actor=request.user,
                )
        except AccountsError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("机构“%(name)s”已保存。") % {"name": saved})
            return redirect("accounts:orgunit_list")
    title = _("新建机构") if unit is None else _("编辑机构：%(name)s") % {"name": unit}
    return render(
        request,
        "accounts/form.html",
        {"form": form, "title": title, "back": reverse("accounts:orgunit_list")},
    )


@login_required
@permission_required("accounts.manage_org_units", raise_exception=True)
def orgunit_create(request: HttpRequest) -> HttpResponse:
    return _orgunit_form_view(request, None)


@login_required
@permission_required("accounts.manage_org_units", raise_exception=True)
def orgunit_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _orgunit_form_view(request, get_object_or_404(OrgUnit, pk=pk))
