from __future__ import annotations

import json
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.core.forms import StyledFormMixin
from credo.notify.models import Category, Channel, Kind, Message, MessageTemplate
from credo.notify.services import SECRET_FIELDS


def _json_field(label: Any, help_text: Any) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
        help_text=help_text,
    )


# Which engine each configuration field belongs to (the form shows only those; see channel.js).
FIELD_ENGINES = {
    "simulates": "simulated",
    "smtp_host": "email",
    "smtp_port": "email",
    "smtp_user": "email",
    "smtp_password": "email",
    "smtp_security": "email",
    "from_email": "email",
    "url": "sms_http",
    "app_key": "sms_http",
    "secret": "sms_http dingtalk_bot",
    "template_map_text": "sms_http",
    "request_format_text": "sms_http",
    "webhook_url": "wecom_bot dingtalk_bot",
    "timeout_seconds": "email sms_http wecom_bot dingtalk_bot",
}


class ChannelForm(StyledFormMixin, forms.ModelForm):
    url = forms.URLField(
        label=gettext_lazy("网关地址"), required=False, max_length=500, assume_scheme="https"
    )
    smtp_password = forms.CharField(
        label=gettext_lazy("SMTP 密码"),
        required=False,
        widget=forms.PasswordInput,
        help_text=gettext_lazy("留空则保留原值；加密存储，不会再次显示。"),
    )
    secret = forms.CharField(
        label=gettext_lazy("签名密钥"),
        required=False,
        widget=forms.PasswordInput,
        help_text=gettext_lazy(
            "短信网关的 HMAC-SHA256 密钥，或钉钉机器人的加签密钥。留空则保留原值。"
        ),
    )
    webhook_url = forms.CharField(
        label=gettext_lazy("Webhook 地址"),
        required=False,
        widget=forms.PasswordInput,
        help_text=gettext_lazy("群机器人的 Webhook（含令牌），加密存储。留空则保留原值。"),
    )
    simulates = forms.MultipleChoiceField(
        label=gettext_lazy("模拟的渠道"),
        required=False,
        choices=Kind.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
        help_text=gettext_lazy("仅模拟渠道：代替哪些渠道发送；不选表示全部。"),
    )
    template_map_text = _json_field(
        gettext_lazy("模板编号映射（JSON）"),
        gettext_lazy('例如 {"collection.reminder": "SMS_123456"}；留空表示直接发送正文。'),
    )
    request_format_text = _json_field(
        gettext_lazy("请求格式（JSON）"),
        gettext_lazy("留空使用默认格式，见使用文档 docs/notify.md。"),
    )

    field_order = [
        "name",
        "engine",
        "enabled",
        "is_default",
        "simulates",
        "smtp_host",
        "smtp_port",
        "smtp_user",
        "smtp_password",
        "smtp_security",
        "from_email",
        "url",
        "app_key",
        "secret",
        "template_map_text",
        "request_format_text",
        "webhook_url",
        "timeout_seconds",
    ]

    class Meta:
        model = Channel
        fields = [
            "name",
            "engine",
            "enabled",
            "is_default",
            "simulates",
            "smtp_host",
            "smtp_port",
            "smtp_user",
            "smtp_security",
            "from_email",
            "app_key",
            "timeout_seconds",
        ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        inst = self.instance
        self.initial.setdefault("url", inst.url)
        for name, engines in FIELD_ENGINES.items():
            self.fields[name].engines = engines  # type: ignore[attr-defined]
        for key, attr in (
            ("template_map_text", "template_map"),
            ("request_format_text", "request_format"),
        ):
            value = getattr(inst, attr)
            if value:
                self.initial[key] = json.dumps(value, ensure_ascii=False, indent=2)
        for name in SECRET_FIELDS:
            if inst.pk and getattr(inst, name):
                self.fields[name].widget.attrs["placeholder"] = _("已设置")

    def _json(self, key: str) -> dict[str, Any]:
        text = (self.cleaned_data.get(key) or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            raise forms.ValidationError(_("不是有效的 JSON。")) from None
        if not isinstance(value, dict):
            raise forms.ValidationError(_("应为 JSON 对象。"))
        return value

    def clean_template_map_text(self) -> dict[str, Any]:
        value = self._json("template_map_text")
        if not all(isinstance(v, str) for v in value.values()):
            raise forms.ValidationError(_("模板编号应为字符串。"))
        return value

    def clean_request_format_text(self) -> dict[str, Any]:
        return self._json("request_format_text")

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        engine = data.get("engine")
        inst = self.instance
        if engine == Channel.Engine.SMS_HTTP and not data.get("url"):
            self.add_error("url", _("短信网关必须填写网关地址。"))
        if engine in (Channel.Engine.WECOM_BOT, Channel.Engine.DINGTALK_BOT):
            hook = (data.get("webhook_url") or "").strip()
            if not hook and not inst.webhook_url:
                self.add_error("webhook_url", _("群机器人必须填写 Webhook 地址。"))
            if hook and not hook.startswith("https://"):
                self.add_error("webhook_url", _("Webhook 地址必须以 https:// 开头。"))
        if engine == Channel.Engine.EMAIL and data.get("smtp_host") and not data.get("from_email"):
            self.add_error("from_email", _("使用 SMTP 服务器时必须填写发件人。"))
        timeout = data.get("timeout_seconds")
        if timeout is not None and not 1 <= timeout <= 60:
            self.add_error("timeout_seconds", _("超时应在 1–60 秒之间。"))
        return data

    def secrets(self) -> dict[str, str]:
        return {name: self.cleaned_data.get(name) or "" for name in SECRET_FIELDS}

    def apply(self) -> Channel:
        channel = self.save(commit=False)
        channel.url = self.cleaned_data.get("url") or ""
        channel.simulates = list(self.cleaned_data.get("simulates") or [])
        channel.template_map = self.cleaned_data["template_map_text"]
        channel.request_format = self.cleaned_data["request_format_text"]
        return channel


class TemplateForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("名称"), max_length=100)
    subject = forms.CharField(label=gettext_lazy("标题"), max_length=200, required=False)
    body = forms.CharField(
        label=gettext_lazy("正文"),
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=gettext_lazy("变量写作 {{ 变量名 }}，支持 Django 模板语法（如 {% if %}）。"),
    )
    channels = forms.MultipleChoiceField(
        label=gettext_lazy("渠道"),
        choices=Kind.choices,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    sample = forms.CharField(
        label=gettext_lazy("示例变量（JSON，用于预览）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "class": "font-monospace"}),
    )

    @classmethod
    def for_template(cls, tpl: MessageTemplate, sample: dict[str, Any], data: Any = None) -> Any:
        return cls(
            data,
            initial={
                "name": tpl.name,
                "subject": tpl.subject,
                "body": tpl.body,
                "channels": tpl.channels,
                "sample": json.dumps(sample, ensure_ascii=False, indent=2) if sample else "",
            },
        )


class TestSendForm(StyledFormMixin, forms.Form):
    channel = forms.ModelChoiceField(
        label=gettext_lazy("渠道"), queryset=Channel.objects.filter(enabled=True)
    )
    address = forms.CharField(
        label=gettext_lazy("测试接收地址"),
        required=False,
        help_text=gettext_lazy("手机号或邮箱；站内消息和群机器人可留空。"),
    )


class OutboxFilterForm(forms.Form):
    status = forms.ChoiceField(choices=[("", "")] + list(Message.Status.choices), required=False)
    kind = forms.ChoiceField(choices=[("", "")] + list(Kind.choices), required=False)
    category = forms.ChoiceField(choices=[("", "")] + list(Category.choices), required=False)
