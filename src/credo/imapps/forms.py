from __future__ import annotations

from typing import Any

from django import forms
from django.db import models
from django.utils.translation import gettext_lazy as _

from credo.accounts.models import OrgUnit
from credo.imapps.models import ImApp

KIND_WORDS = {"部门": "dept", "dept": "dept", "职务": "title", "title": "title"}


def rules_to_text(rules: list[dict[str, str]]) -> str:
    label = {"dept": "部门", "title": "职务"}
    return "\n".join(f"{label[r['kind']]}:{r['value']}={r['role']}" for r in rules)


def text_to_rules(text: str) -> list[dict[str, str]]:
    rules = []
    for n, line in enumerate((text or "").splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        head, sep, role = line.rpartition("=")
        kind, sep2, value = head.partition(":")
        if not sep or not sep2 or kind.strip() not in KIND_WORDS:
            raise forms.ValidationError(
                _("第 %(n)s 行格式应为“部门:名称=角色编码”或“职务:名称=角色编码”。"),
                params={"n": n},
            )
        rules.append(
            {"kind": KIND_WORDS[kind.strip()], "value": value.strip(), "role": role.strip()}
        )
    return rules


def _formfield(field: Any, **kwargs: Any) -> Any:
    if isinstance(field, models.URLField):
        kwargs["assume_scheme"] = "https"
    return field.formfield(**kwargs)


class ImAppForm(forms.ModelForm):
    secret_new = forms.CharField(
        label=_("应用 Secret"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("留空则保持不变。"),
    )
    callback_token_new = forms.CharField(
        label=_("回调 Token"), required=False, widget=forms.PasswordInput(render_value=False)
    )
    callback_aes_key_new = forms.CharField(
        label=_("回调 EncodingAESKey"),
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )
    rules_text = forms.CharField(
        label=_("角色映射规则"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一条：部门:风控部=risk_analyst 或 职务:客户经理=account_manager"),
    )

    class Meta:
        model = ImApp
        formfield_callback = _formfield
        fields = [
            "enabled",
            "corp_id",
            "app_key",
            "agent_id",
            "base_url",
            "api_base_url",
            "login_url",
            "public_url",
            "timeout_seconds",
            "default_role",
            "root_org_unit",
            "default_org_unit",
            "sync_enabled",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        heads = OrgUnit.objects.filter(kind=OrgUnit.Kind.HEAD_OFFICE, is_active=True)
        self.fields["root_org_unit"].queryset = heads  # type: ignore[attr-defined]
        units = OrgUnit.objects.filter(is_active=True)
        self.fields["default_org_unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["rules_text"].initial = rules_to_text(self.instance.role_rules or [])
        if self.instance.platform == "wecom":
            del self.fields["api_base_url"]
            del self.fields["app_key"]
        else:
            del self.fields["callback_token_new"]
            del self.fields["callback_aes_key_new"]

        for field in self.fields.values():
            if not isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault(
                    "class",
                    "form-select" if isinstance(field.widget, forms.Select) else "form-control",
                )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("enabled") and not data.get("public_url"):
            # card links and the login callback are absolute URLs the platform opens
            self.add_error(
                "public_url",
                _(
                    "启用应用前请填写 Credo 访问地址（例如 https://credo.example.cn），卡片链接和扫码登录回调都要用到它。"
                ),
            )
        return data

    def clean_rules_text(self) -> list[dict[str, str]]:
        return text_to_rules(self.cleaned_data.get("rules_text") or "")

    def secrets(self) -> dict[str, str]:
        return {
            name: self.cleaned_data.get(f"{name}_new") or ""
            for name in ("secret", "callback_token", "callback_aes_key")
        }


class CardActForm(forms.Form):
    action = forms.ChoiceField(choices=[("approve", _("同意")), ("reject", _("驳回"))])
    comment = forms.CharField(
        label=_("审批意见"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )
