"""The endpoint form (validation in Chinese; the services validate again for the API)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.core.forms import StyledFormMixin
from credo.webhooks import services
from credo.webhooks.errors import WebhookError
from credo.webhooks.models import ALL_EVENTS, WebhookEndpoint


class EndpointForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("名称"), max_length=80)
    url = forms.CharField(
        label=gettext_lazy("推送地址"),
        max_length=500,
        help_text=gettext_lazy("接收方的 http:// 或 https:// 地址，生产环境请使用 https。"),
    )
    description = forms.CharField(label=gettext_lazy("说明"), max_length=200, required=False)
    all_events = forms.BooleanField(
        label=gettext_lazy("订阅全部事件"),
        required=False,
        help_text=gettext_lazy("包括以后新增的事件类型。"),
    )
    event_types = forms.MultipleChoiceField(
        label=gettext_lazy("订阅的事件"),
        required=False,
        widget=forms.CheckboxSelectMultiple(attrs={"class": "form-check-input"}),
    )
    timeout_seconds = forms.IntegerField(
        label=gettext_lazy("超时（秒）"), min_value=1, max_value=60
    )
    max_attempts = forms.IntegerField(
        label=gettext_lazy("最多尝试次数"),
        min_value=1,
        max_value=20,
        help_text=gettext_lazy("含首次发送；用完后投递记为“已放弃”。"),
    )
    disable_after_failures = forms.IntegerField(
        label=gettext_lazy("连续失败自动停用次数"), min_value=1, max_value=1000
    )

    def __init__(self, *args: Any, endpoint: WebhookEndpoint | None = None, **kwargs: Any) -> None:
        if endpoint is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "name": endpoint.name,
                "url": endpoint.url,
                "description": endpoint.description,
                "all_events": endpoint.takes_all,
                "event_types": [t for t in endpoint.event_types if t != ALL_EVENTS],
                "timeout_seconds": endpoint.timeout_seconds,
                "max_attempts": endpoint.max_attempts,
                "disable_after_failures": endpoint.disable_after_failures,
            }
        kwargs.setdefault(
            "initial",
            {
                "timeout_seconds": services.default_timeout(),
                "max_attempts": services.default_max_attempts(),
                "disable_after_failures": services.default_disable_after(),
            },
        )
        super().__init__(*args, **kwargs)
        self.fields["event_types"].choices = services.event_type_choices()  # type: ignore[attr-defined]
        self.fields["event_types"].widget.attrs["class"] = "form-check-input"

    def clean_url(self) -> str:
        try:
            return services.validate_url(self.cleaned_data["url"])
        except WebhookError as exc:
            raise forms.ValidationError(exc.message) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("all_events") and not data.get("event_types"):
            self.add_error("event_types", _("请至少订阅一种事件，或勾选“订阅全部事件”。"))
        return data

    def chosen_types(self) -> list[str]:
        if self.cleaned_data.get("all_events"):
            return [ALL_EVENTS]
        return list(self.cleaned_data.get("event_types") or [])
