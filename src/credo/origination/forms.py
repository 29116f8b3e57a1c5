from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.collateral.models import Collateral, Guarantee
from credo.core.forms import StyledFormMixin, style_form
from credo.core.money import Money
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
    # 担保信息: one guarantor (a customer) and one 抵押物/质押物 at creation; more are added on
    # the application page. Both become records (credo.collateral), not free text.
    guarantor = forms.ModelChoiceField(
        label=_("保证人"),
        queryset=Customer.objects.none(),
        required=False,
        help_text=_("选填：保证人须已登记为客户，将生成待生效的保证合同"),
    )
    guarantee_kind = forms.ChoiceField(
        label=_("保证方式"),
        choices=Guarantee.Kind.choices,
        initial=Guarantee.Kind.JOINT,
        required=False,
    )
    guarantee_amount = forms.DecimalField(
        label=_("保证金额（元）"),
        required=False,
        min_value=Decimal("0.01"),
        max_digits=15,
        decimal_places=2,
        help_text=_("留空为申请金额"),
    )
    collateral_kind = forms.ChoiceField(
        label=_("押品担保方式"),
        choices=Collateral.Kind.choices,
        initial=Collateral.Kind.MORTGAGE,
        required=False,
    )
    collateral_category = forms.ChoiceField(
        label=_("押品类别"),
        choices=Collateral.Category.choices,
        initial=Collateral.Category.REAL_ESTATE,
        required=False,
    )
    collateral = forms.CharField(
        label=_("押品描述"),
        max_length=300,
        required=False,
        help_text=_("选填：例如房产坐落地址、设备名称型号、存单号"),
    )
    collateral_value = forms.DecimalField(
        label=_("押品价值（元）"),
        required=False,
        min_value=Decimal("0"),
        max_digits=15,
        decimal_places=2,
        help_text=_("申报或评估价值，用于计算抵押率"),
    )
    collateral_registration_number = forms.CharField(
        label=_("他项权证号"),
        max_length=60,
        required=False,
        help_text=_("选填：已办理抵押登记时填写"),
    )
    collateral_owner = forms.ModelChoiceField(
        label=_("押品所有权人"),
        queryset=Customer.objects.none(),
        required=False,
        help_text=_("留空为借款人本人"),
    )

    def __init__(self, *args: Any, customers: Any = None, versions: Any = None, **kw: Any):
        super().__init__(*args, **kw)
        self.fields["customer"].queryset = customers  # type: ignore[attr-defined]
        self.fields["guarantor"].queryset = customers  # type: ignore[attr-defined]
        self.fields["collateral_owner"].queryset = customers  # type: ignore[attr-defined]
        self.fields["guarantor"].empty_label = _("无")  # type: ignore[attr-defined]
        self.fields["collateral_owner"].empty_label = _("借款人本人")  # type: ignore[attr-defined]
        self.fields["product_version"].queryset = versions  # type: ignore[attr-defined]
        self.fields["product_version"].label_from_instance = lambda pv: (  # type: ignore[attr-defined]
            f"{pv.product.name} v{pv.number}（{pv.min_rate.normalize()}%–{pv.max_rate.normalize()}%，"
            f"{pv.min_months}–{pv.max_months} 个月）"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        described = bool((data.get("collateral") or "").strip())
        if not described:
            for name, message in (
                ("collateral_value", _("填写了押品价值，请同时填写押品描述。")),
                ("collateral_registration_number", _("填写了他项权证号，请同时填写押品描述。")),
                ("collateral_owner", _("选择了押品所有权人，请同时填写押品描述。")),
            ):
                if data.get(name) not in (None, ""):
                    self.add_error("collateral", message)
                    break
        guarantor = data.get("guarantor")
        if guarantor is None and data.get("guarantee_amount") is not None:
            self.add_error("guarantor", _("填写了保证金额，请选择保证人。"))
        customer = data.get("customer")
        if guarantor is not None and customer is not None and guarantor.pk == customer.pk:
            self.add_error("guarantor", _("保证人不能是借款人本人。"))
        return data

    def guarantees(self) -> list[dict[str, Any]]:
        """The 担保信息 rows for ``application_create`` (money in fen)."""
        data = self.cleaned_data
        rows: list[dict[str, Any]] = []
        guarantor = data.get("guarantor")
        if isinstance(guarantor, Customer):
            amount = data.get("guarantee_amount")
            rows.append(
                {
                    "type": "guarantor",
                    "guarantor_id": guarantor.pk,
                    "name": guarantor.name,
                    "kind": data.get("guarantee_kind") or Guarantee.Kind.JOINT,
                    "amount": Money(amount).fen if amount is not None else None,
                }
            )
        elif (guarantor or "") and isinstance(guarantor, str):
            # the customer's own form: a name only, checked by the account manager later
            rows.append({"type": "guarantor", "name": guarantor.strip(), "value": None})
        description = (data.get("collateral") or "").strip()
        if description:
            value = data.get("collateral_value")
            owner = data.get("collateral_owner")
            rows.append(
                {
                    "type": "collateral",
                    "kind": data.get("collateral_kind") or Collateral.Kind.MORTGAGE,
                    "category": data.get("collateral_category") or Collateral.Category.OTHER,
                    "description": description,
                    "value": Money(value).fen if value is not None else None,
                    "registration_number": (
                        data.get("collateral_registration_number") or ""
                    ).strip(),
                    "owner_id": owner.pk if owner is not None else None,
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
        # no customer pickers on the customer's own form: the guarantor is a name the account
        # manager checks (and registers as a 保证合同), the collateral is the applicant's own
        for name in ("guarantee_kind", "guarantee_amount", "collateral_owner"):
            del self.fields[name]
        self.fields["guarantor"] = forms.CharField(
            label=_("保证人"),
            max_length=120,
            required=False,
            help_text=_("选填：保证人姓名或企业名称，客户经理核实后办理保证合同"),
        )
        style_form(self)
        for name in ("amount", "collateral_value"):
            self.fields[name].widget.attrs["inputmode"] = "decimal"
        self.fields["months"].widget.attrs["inputmode"] = "numeric"
        self.fields["purpose"].widget.attrs["placeholder"] = _("例如：采购原材料、购买设备")
