from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credo.core.forms import StyledFormMixin
from credo.lending.schedule import METHODS

METHOD_CHOICES = [
    ("equal_installment", _("等额本息")),
    ("equal_principal", _("等额本金")),
    ("interest_only", _("先息后本")),
    ("bullet", _("到期一次还本付息")),
]
assert [m for m, _label in METHOD_CHOICES] == list(METHODS)


class CalculatorForm(StyledFormMixin, forms.Form):
    principal = forms.DecimalField(
        label=_("贷款本金（元）"), min_value=Decimal("0.01"), max_digits=15, decimal_places=2
    )
    annual_rate = forms.DecimalField(
        label=_("年利率（%）"),
        min_value=Decimal("0"),
        max_value=Decimal("36"),
        max_digits=7,
        decimal_places=4,
    )
    months = forms.IntegerField(label=_("期限（月）"), min_value=1, max_value=600)
    method = forms.ChoiceField(label=_("还款方式"), choices=METHOD_CHOICES)
    start = forms.DateField(label=_("起息日"), widget=forms.DateInput(attrs={"type": "date"}))
    repayment_day = forms.IntegerField(
        label=_("每月还款日（可选）"), min_value=1, max_value=31, required=False
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["start"].initial = timezone.localdate()
