"""Administration of external data providers (工商 / 征信 / 司法 / 舆情 sources)."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.core.audit.services import audit_record
from credo.core.forms import StyledFormMixin
from credo.customers.models import ExternalProvider

PERM = "customers.manage_providers"
AUDITED = [
    "name",
    "kind",
    "engine",
    "url",
    "auth_header",
    "timeout_seconds",
    "field_mapping",
    "is_active",
]


class ProviderForm(StyledFormMixin, forms.ModelForm):
    auth_value = forms.CharField(
        label=gettext_lazy("认证凭据"),
        required=False,
        widget=forms.PasswordInput,
        help_text=gettext_lazy("留空则保留原凭据；凭据加密存储，不会再次显示。"),
    )
    field_mapping_text = forms.CharField(
        label=gettext_lazy("字段映射（JSON）"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5, "class": "font-monospace"}),
        help_text=gettext_lazy('例如 {"registered_capital": "data.regCap"}；留空则保存原始返回。'),
    )

    class Meta:
        model = ExternalProvider
        fields = ["name", "kind", "engine", "url", "auth_header", "timeout_seconds", "is_active"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.field_mapping:
            self.initial["field_mapping_text"] = json.dumps(
                self.instance.field_mapping, ensure_ascii=False, indent=2
            )

    def clean_field_mapping_text(self) -> dict[str, str]:
        text = (self.cleaned_data.get("field_mapping_text") or "").strip()
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            raise forms.ValidationError(_("字段映射不是有效的 JSON。")) from None
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise forms.ValidationError(_('字段映射应为 {"我方字段": "对方字段路径"} 形式。'))
        return value

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if data.get("engine") == ExternalProvider.Engine.HTTP_JSON:
            url = data.get("url") or ""
            if not url:
                self.add_error("url", _("HTTP/JSON 数据源必须填写接口地址。"))
            if data.get("timeout_seconds") and not 1 <= data["timeout_seconds"] <= 60:
                self.add_error("timeout_seconds", _("超时应在 1–60 秒之间。"))
        return data


@login_required
@permission_required(PERM, raise_exception=True)
def provider_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "customers/provider_list.html", {"providers": ExternalProvider.objects.all()}
    )


@login_required
@permission_required(PERM, raise_exception=True)
def provider_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    instance = get_object_or_404(ExternalProvider, pk=pk) if pk else ExternalProvider()
    form = ProviderForm(request.POST or None, instance=instance)
    if request.method == "POST" and form.is_valid():
        before = {k: getattr(instance, k) for k in AUDITED} if pk else {}
        with transaction.atomic():
            provider = form.save(commit=False)
            provider.field_mapping = form.cleaned_data["field_mapping_text"]
            secret_changed = bool(form.cleaned_data.get("auth_value"))
            if secret_changed:
                provider.auth_value = form.cleaned_data["auth_value"]
            provider.save()
            after = {k: getattr(provider, k) for k in AUDITED}
            audit_record(
                action="customer.provider_update" if pk else "customer.provider_create",
                actor=request.user,
                obj=provider,
                changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
                metadata={"credential_changed": secret_changed},
            )
        messages.success(request, _("数据源已保存。"))
        return redirect("customers:provider_list")
    return render(request, "customers/provider_form.html", {"form": form, "provider": instance})
