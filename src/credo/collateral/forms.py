"""Forms: money in yuan (converted to fen by the views through ``Money``), ISO dates."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.collateral.models import Collateral, CollateralValuation, Guarantee
from credo.core.forms import IsoDateField, StyledFormMixin
from credo.customers.models import Customer

YUAN = {"min_value": Decimal("0"), "max_digits": 15, "decimal_places": 2}


class CollateralForm(StyledFormMixin, forms.Form):
    owner = forms.ModelChoiceField(label=_("所有权人"), queryset=Customer.objects.none())
    kind = forms.ChoiceField(label=_("担保方式"), choices=Collateral.Kind.choices)
    category = forms.ChoiceField(label=_("押品类别"), choices=Collateral.Category.choices)
    description = forms.CharField(label=_("押品描述"), max_length=300)
    address = forms.CharField(label=_("坐落/存放地址"), max_length=200, required=False)
    registration_number = forms.CharField(
        label=_("他项权证/登记证明编号"), max_length=60, required=False
    )
    registered_on = IsoDateField(label=_("登记日期"), required=False)
    expires_on = IsoDateField(label=_("登记到期日"), required=False)
    note = forms.CharField(label=_("备注"), max_length=300, required=False)

    def __init__(self, *args: Any, customers: Any = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["owner"].queryset = customers  # type: ignore[attr-defined]
        self.fields["owner"].help_text = _("可以是借款人以外的第三人")


class CollateralCreateForm(CollateralForm):
    value = forms.DecimalField(label=_("评估价值（元）"), required=False, **YUAN)  # type: ignore[arg-type]
    valued_on = IsoDateField(label=_("评估日期"), required=False)
    appraiser = forms.CharField(label=_("评估机构/评估人"), max_length=120, required=False)
    method = forms.ChoiceField(
        label=_("评估方法"), choices=CollateralValuation.Method.choices, required=False
    )
    secured_amount = forms.DecimalField(label=_("担保金额（元）"), required=False, **YUAN)  # type: ignore[arg-type]
    agreed_ltv = forms.DecimalField(
        label=_("约定抵押率（%）"),
        required=False,
        min_value=Decimal("0.01"),
        max_value=Decimal("1000"),
        max_digits=6,
        decimal_places=2,
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("value") is not None:
            for name in ("valued_on", "appraiser", "method"):
                if not data.get(name):
                    self.add_error(name, _("填写评估价值时必填。"))
        return data


class ValuationForm(StyledFormMixin, forms.Form):
    valued_on = IsoDateField(label=_("评估日期"))
    value = forms.DecimalField(label=_("评估价值（元）"), **YUAN)  # type: ignore[arg-type]
    appraiser = forms.CharField(label=_("评估机构/评估人"), max_length=120)
    method = forms.ChoiceField(label=_("评估方法"), choices=CollateralValuation.Method.choices)
    note = forms.CharField(label=_("备注"), max_length=300, required=False)


class RegisterForm(StyledFormMixin, forms.Form):
    registration_number = forms.CharField(label=_("他项权证/登记证明编号"), max_length=60)
    registered_on = IsoDateField(label=_("登记日期"))
    expires_on = IsoDateField(label=_("登记到期日"), required=False)


class GuaranteeForm(StyledFormMixin, forms.Form):
    guarantor = forms.ModelChoiceField(label=_("保证人"), queryset=Customer.objects.none())
    contract_number = forms.CharField(label=_("保证合同编号"), max_length=60)
    kind = forms.ChoiceField(label=_("保证方式"), choices=Guarantee.Kind.choices)
    amount = forms.DecimalField(
        label=_("保证金额（元）"), min_value=Decimal("0.01"), max_digits=15, decimal_places=2
    )
    period_start = IsoDateField(label=_("保证期间起"), required=False)
    period_end = IsoDateField(label=_("保证期间止"), required=False)
    note = forms.CharField(label=_("备注"), max_length=300, required=False)

    def __init__(self, *args: Any, customers: Any = None, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.fields["guarantor"].queryset = customers  # type: ignore[attr-defined]


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("解押原因"), max_length=300)


class DecisionForm(StyledFormMixin, forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("批准")), ("reject", _("驳回"))])
    note = forms.CharField(label=_("审批意见"), max_length=300, required=False)
    released_on = IsoDateField(label=_("解押日期"), required=False)
