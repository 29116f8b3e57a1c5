from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.core.forms import StyledFormMixin
from credo.core.money import Money

ACTION_CHOICES = [
    ("approve", _("批准")),
    ("reject", _("拒绝")),
    ("return", _("退回补充")),
    ("transfer", _("转交")),
]


class ActForm(StyledFormMixin, forms.Form):
    action = forms.ChoiceField(label=_("动作"), choices=ACTION_CHOICES)
    comment = forms.CharField(label=_("意见"), required=False, widget=forms.Textarea({"rows": 2}))
    amount = forms.DecimalField(
        label=_("批准金额（元）"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=16,
        decimal_places=2,
        help_text=_("只能调低；留空表示按申请金额"),
    )
    months = forms.IntegerField(label=_("批准期限（月）"), required=False, min_value=1)
    transfer_to = forms.IntegerField(label=_("转交给"), required=False, widget=forms.Select)

    def amount_fen(self) -> int | None:
        value = self.cleaned_data.get("amount")
        return Money(value).fen if value is not None else None


class ResumeForm(StyledFormMixin, forms.Form):
    answer = forms.CharField(label=_("补充说明"), widget=forms.Textarea({"rows": 3}))


class DefinitionForm(StyledFormMixin, forms.Form):
    definition = forms.CharField(
        label=_("定义（JSON）"),
        widget=forms.Textarea({"rows": 28, "class": "font-monospace", "spellcheck": "false"}),
    )
    note = forms.CharField(label=_("变更说明"), required=False, max_length=200)

    def clean_definition(self) -> Any:
        try:
            return json.loads(self.cleaned_data["definition"])
        except ValueError as exc:
            raise forms.ValidationError(_("JSON 格式错误：%(e)s") % {"e": exc}) from None
