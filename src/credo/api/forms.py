from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.api.models import SCOPES

EXPIRY_CHOICES = [
    ("30", _("30 天")),
    ("90", _("90 天")),
    ("180", _("180 天")),
    ("365", _("1 年")),
    ("", _("永不过期")),
]


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    scopes = forms.MultipleChoiceField(
        label=_("权限范围"),
        choices=[(k, _(v)) for k, v in SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
        initial=["read"],
        error_messages={"required": _("至少选择一个权限范围")},
    )
    expires_in_days = forms.ChoiceField(
        label=_("有效期"), choices=EXPIRY_CHOICES, initial="90", required=False
    )

    def cleaned_expiry(self) -> int | None:
        value = self.cleaned_data.get("expires_in_days") or ""
        return int(value) if value else None
