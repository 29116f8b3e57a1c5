from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.core.forms import StyledFormMixin
from credo.customers.models import Customer
from credo.lending.models import ProductVersion


class ApplicationForm(StyledFormMixin, forms.Form):
    customer = forms.ModelChoiceField(label=_("客户"), queryset=Customer.objects.none())
    product_version = forms.ModelChoiceField(
        label=_("贷款产品"), queryset=ProductVersion.objects.none()
    )
    amount = forms.DecimalField(
        label=_("申请金额（元）"), min_value=Decimal("0.01"), max_digits=15, decimal_places=2
    )
    months = forms.IntegerField(label=_("期限（月）"), min_value=1, max_value=600)
    annual_rate = forms.DecimalField(
        label=_("年利率（%）"),
        required=False,
        min_value=Decimal("0"),
        max_value=Decimal("36"),
        max_digits=7,
        decimal_places=4,
        help_text=_("留空取产品最低利率"),
    )
    purpose = forms.CharField(label=_("贷款用途"), max_length=200)
    guarantor = forms.CharField(label=_("保证人"), max_length=120, required=False)
    collateral = forms.CharField(label=_("抵押物"), max_length=120, required=False)
    collateral_value = forms.DecimalField(
        label=_("抵押物评估价值（元）"),
        required=False,
        min_value=Decimal("0"),
        max_digits=15,
        decimal_places=2,
    )

    def __init__(self, *args: Any, customers: Any = None, versions: Any = None, **kw: Any):
        super().__init__(*args, **kw)
        self.fields["customer"].queryset = customers  # type: ignore[attr-defined]
        self.fields["product_version"].queryset = versions  # type: ignore[attr-defined]
        self.fields["product_version"].label_from_instance = lambda pv: (  # type: ignore[attr-defined]
            f"{pv.product.name} v{pv.number}（{pv.min_rate.normalize()}%–{pv.max_rate.normalize()}%，"
            f"{pv.min_months}–{pv.max_months} 个月）"
        )

    def guarantees(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        rows: list[dict[str, Any]] = []
        if data.get("guarantor"):
            rows.append({"type": "guarantor", "name": data["guarantor"], "value": None})
        if data.get("collateral"):
            value = data.get("collateral_value")
            rows.append(
                {
                    "type": "collateral",
                    "name": data["collateral"],
                    "value": int(value * 100) if value is not None else None,
                }
            )
        return rows


class UploadForm(StyledFormMixin, forms.Form):
    item = forms.ChoiceField(label=_("资料项"))
    file = forms.FileField(label=_("文件"))

    def __init__(self, *args: Any, items: list[str] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.fields["item"].choices = [(i, i) for i in items or []]  # type: ignore[attr-defined]


class ReviewForm(StyledFormMixin, forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("通过")), ("reject", _("退回"))])
    reason = forms.CharField(label=_("退回原因"), max_length=200, required=False)


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=300, required=False)


class AnswerForm(StyledFormMixin, forms.Form):
    answer = forms.CharField(label=_("补充说明"), widget=forms.Textarea(attrs={"rows": 3}))


class PortalLinkForm(StyledFormMixin, forms.Form):
    days = forms.IntegerField(label=_("有效期（天）"), min_value=1, max_value=30, initial=7)


class PortalApplicationForm(ApplicationForm):
    """The customer's own application (invitation link): no customer picker (the link is bound
    to one) and no rate (the product's minimum rate applies, as for staff leaving it empty)."""

    def __init__(self, *args: Any, versions: Any = None, **kw: Any):
        super().__init__(*args, customers=Customer.objects.none(), versions=versions, **kw)
        del self.fields["customer"]
        del self.fields["annual_rate"]
        self.fields["product_version"].empty_label = _("请选择贷款产品")  # type: ignore[attr-defined]
        self.fields["product_version"].label_from_instance = lambda pv: (  # type: ignore[attr-defined]
            f"{pv.product.name}（{pv.min_amount.format(symbol=False)}–"
            f"{pv.max_amount.format(symbol=False)} 元，{pv.min_months}–{pv.max_months} 个月）"
        )
        for name in ("amount", "collateral_value"):
            self.fields[name].widget.attrs["inputmode"] = "decimal"
        self.fields["months"].widget.attrs["inputmode"] = "numeric"
        self.fields["purpose"].widget.attrs["placeholder"] = _("例如：采购原材料、购买设备")
        self.fields["guarantor"].help_text = _("选填：保证人姓名或企业名称")
        self.fields["collateral"].help_text = _("选填：抵押物描述，例如房产地址")
