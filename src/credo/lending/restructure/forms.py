"""Forms of the restructuring and recovery pages."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.core import clock
from credo.core.forms import IsoDateInput, StyledFormMixin
from credo.lending.models import Method, Restructuring


class RestructureForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("类型"), choices=Restructuring.Kind.choices)
    extend_months = forms.IntegerField(
        label=_("展期月数"),
        min_value=1,
        max_value=360,
        required=False,
        help_text=_("仅展期：在原到期日基础上延长的月数"),
    )
    annual_rate = forms.DecimalField(
        label=_("新年利率（%）"),
        min_value=Decimal("0"),
        max_value=Decimal("36"),
        max_digits=7,
        decimal_places=4,
        required=False,
        help_text=_("重组 / 借新还旧：留空表示不变"),
    )
    method = forms.ChoiceField(
        label=_("新还款方式"), choices=[("", _("不变"))] + list(Method.choices), required=False
    )
    months = forms.IntegerField(
        label=_("新期限（月）"),
        min_value=1,
        max_value=360,
        required=False,
        help_text=_("重组：剩余期限，留空表示不变；借新还旧：新贷款期限（必填）"),
    )
    reason = forms.CharField(
        label=_("申请原因"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )

    def terms(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "extend_months": data.get("extend_months"),
            "annual_rate": data.get("annual_rate"),
            "method": data.get("method") or "",
            "months": data.get("months"),
        }


class DecisionForm(StyledFormMixin, forms.Form):
    note = forms.CharField(label=_("审批意见"), max_length=300, required=False)


class RecoveryForm(StyledFormMixin, forms.Form):
    amount = forms.DecimalField(
        label=_("收回金额（元）"), min_value=Decimal("0.01"), max_digits=15, decimal_places=2
    )
    received_on = forms.DateField(label=_("到账日期"), widget=IsoDateInput())
    reference = forms.CharField(label=_("流水号/备注"), max_length=80, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = clock.today()
        self.fields["idempotency_key"].initial = str(uuid.uuid4())
