from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

from credo.api.models import SCOPES

STANDARD_EXPIRY_DAYS = (30, 90, 180, 365)
DEFAULT_EXPIRY_DAYS = 90


def expiry_choices(max_days: int) -> list[tuple[str, str]]:
    """The lifetimes offered on the token page: the standard ones up to the configured maximum
    (CREDO_API_TOKEN_MAX_DAYS), and the maximum itself. Never "no expiry"."""
    days = [d for d in STANDARD_EXPIRY_DAYS if d <= max_days]
    if max_days not in days:
        days.append(max_days)
    return [(str(d), _("1 年") if d == 365 else _("%(n)d 天") % {"n": d}) for d in days]


class TokenCreateForm(forms.Form):
    name = forms.CharField(label=_lazy("名称"), max_length=100)
    scopes = forms.MultipleChoiceField(
        label=_lazy("权限范围"),
        choices=[(k, _lazy(v)) for k, v in SCOPES.items()],
        widget=forms.CheckboxSelectMultiple,
        initial=["read"],
        error_messages={"required": _lazy("至少选择一个权限范围")},
    )
    expires_in_days = forms.ChoiceField(label=_lazy("有效期"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_days = int(settings.CREDO_API_TOKEN_MAX_DAYS)
        field = cast(forms.ChoiceField, self.fields["expires_in_days"])
        field.choices = expiry_choices(self.max_days)
        field.initial = str(min(DEFAULT_EXPIRY_DAYS, self.max_days))
        too_long = _("令牌有效期必须在 1 到 %(n)s 天之间。") % {"n": self.max_days}
        field.error_messages["invalid_choice"] = too_long
        field.error_messages["required"] = _("令牌必须设置有效期，最长 %(n)s 天。") % {
            "n": self.max_days
        }
        field.help_text = _("最长 %(n)s 天，到期后令牌自动失效。") % {"n": self.max_days}

    def cleaned_expiry(self) -> int:
        return int(self.cleaned_data["expires_in_days"])
