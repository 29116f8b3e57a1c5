"""The 收费 form: kind, amount in yuan, value date (ISO), memo."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.core.forms import IsoDateInput, StyledFormMixin
from credo.lending.models import LoanCharge


class ChargeForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("费用类型"), choices=LoanCharge.Kind.choices)
    amount = forms.DecimalField(
        label=_("金额（元）"), min_value=Decimal("0.01"), max_digits=15, decimal_places=2
    )
    charged_on = forms.DateField(label=_("起息日"), widget=IsoDateInput())
    memo = forms.CharField(label=_("说明"), max_length=200, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, required=False)
