from __future__ import annotations

from typing import Any, cast

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import Permission
from django.utils.translation import gettext_lazy as _

from credo.accounts.models import DataScope, OrgUnit, Role, User


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("用户名或密码错误。"),
        "inactive": _("该账户已停用。"),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("用户名")
        self.fields["password"].label = _("密码")
        self.fields["username"].error_messages["required"] = _("请输入用户名。")
        self.fields["password"].error_messages["required"] = _("请输入密码。")
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"


def _style(form: forms.Form) -> None:
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxInput | forms.CheckboxSelectMultiple):
            widget.attrs.setdefault("class", "form-check-input")
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


class StyledForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _style(self)


def org_unit_queryset() -> Any:
    return OrgUnit.objects.filter(is_active=True).select_related("parent").order_by("code")


class UserForm(StyledForm):
    username = forms.CharField(label=_("用户名"), max_length=150)
    display_name = forms.CharField(label=_("姓名"), max_length=60)
    employee_no = forms.CharField(label=_("工号"), max_length=30, required=False)
    email = forms.EmailField(label=_("电子邮箱"), required=False)
    org_unit = forms.ModelChoiceField(
        label=_("所属机构/团队"), queryset=OrgUnit.objects.none(), required=False
    )
    roles = forms.ModelMultipleChoiceField(
        label=_("角色"),
        queryset=Role.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    password = forms.CharField(
        label=_("初始密码"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("留空则自动生成强密码。"),
    )

    def __init__(self, *args: Any, editing: User | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(Any, self.fields["org_unit"]).queryset = org_unit_queryset()
        cast(Any, self.fields["roles"]).queryset = Role.objects.order_by("id")
        if editing is not None:
            self.fields["username"].disabled = True
            del self.fields["password"]
            self.fields["is_active"] = forms.BooleanField(label=_("启用"), required=False)
            _style(self)


def assignable_permissions() -> Any:
    """Permissions of Credo's own apps (framework apps' model permissions are not assigned
    through the role form)."""
    from django.apps import apps

    labels = [c.label for c in apps.get_app_configs() if c.name.startswith("credo.")]
    return (
        Permission.objects.filter(content_type__app_label__in=labels)
        .select_related("content_type")
        .order_by("content_type__app_label", "codename")
    )


class RoleForm(StyledForm):
    code = forms.SlugField(label=_("编码"), max_length=40)
    name = forms.CharField(label=_("名称"), max_length=60)
    description = forms.CharField(
        label=_("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    data_scope = forms.ChoiceField(label=_("数据范围"), choices=DataScope.choices)
    permissions = forms.ModelMultipleChoiceField(
        label=_("权限"),
        queryset=Permission.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, role: Role | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(Any, self.fields["permissions"]).queryset = assignable_permissions()
        if role is not None and role.is_system:
            self.fields["code"].disabled = True

    def permission_groups(self) -> list[dict[str, Any]]:
        """Permissions grouped by app, for the checkbox grid."""
        from django.apps import apps

        selected = {str(v) for v in (self["permissions"].value() or [])}
        groups: dict[str, dict[str, Any]] = {}
        for perm in cast(Any, self.fields["permissions"]).queryset:
            label = perm.content_type.app_label
            if label not in groups:
                try:
                    verbose = apps.get_app_config(label).verbose_name
                except LookupError:
                    verbose = label
                groups[label] = {"app_label": label, "label": verbose, "perms": []}
            groups[label]["perms"].append(
                {
                    "pk": perm.pk,
                    "name": perm.name,
                    "codename": perm.codename,
                    "checked": str(perm.pk) in selected,
                }
            )
        return list(groups.values())


class OrgUnitForm(StyledForm):
    code = forms.SlugField(label=_("编码"), max_length=40)
    name = forms.CharField(label=_("名称"), max_length=100)
    kind = forms.ChoiceField(label=_("类型"), choices=OrgUnit.Kind.choices)
    parent = forms.ModelChoiceField(
        label=_("上级机构"), queryset=OrgUnit.objects.none(), required=False
    )
    region_code = forms.CharField(label=_("行政区划代码"), max_length=6, required=False)

    def __init__(self, *args: Any, unit: OrgUnit | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        qs = OrgUnit.objects.exclude(kind=OrgUnit.Kind.TEAM).order_by("code")
        if unit is not None:
            qs = qs.exclude(pk=unit.pk)
            self.fields["code"].disabled = True
            self.fields["kind"].disabled = True
            self.fields["is_active"] = forms.BooleanField(label=_("启用"), required=False)
            _style(self)
        cast(Any, self.fields["parent"]).queryset = qs


class PasswordChangeForm(StyledForm):
    old_password = forms.CharField(label=_("当前密码"), widget=forms.PasswordInput)
    new_password1 = forms.CharField(label=_("新密码"), widget=forms.PasswordInput)
    new_password2 = forms.CharField(label=_("确认新密码"), widget=forms.PasswordInput)

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_old_password(self) -> str:
        value: str = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError(_("当前密码不正确。"))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("两次输入的新密码不一致。"))
        return data


class OTPCodeForm(StyledForm):
    code = forms.RegexField(
        label=_("动态验证码"),
        regex=r"^\d{6}$",
        max_length=6,
        error_messages={"invalid": _("请输入 6 位数字验证码。"), "required": _("请输入验证码。")},
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
