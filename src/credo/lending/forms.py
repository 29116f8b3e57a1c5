from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.core import clock
from credo.core.forms import IsoDateInput, StyledFormMixin
from credo.core.money import Money
from credo.customers.models import Customer
from credo.lending.models import (
    HolidayRule,
    LprTenor,
    Product,
    ProductVersion,
    RateType,
    Repricing,
)
from credo.lending.schedule import METHODS, period_months

METHOD_CHOICES = [
    ("equal_installment", _("等额本息")),
    ("equal_principal", _("等额本金")),
    ("interest_only", _("按月付息到期还本（先息后本）")),
    ("bullet", _("到期一次还本付息")),
    ("interest_quarterly", _("按季付息到期还本")),
    ("equal_installment_quarterly", _("按季等额本息")),
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
    start = forms.DateField(label=_("起息日"), widget=IsoDateInput())
    repayment_day = forms.IntegerField(
        label=_("每月还款日（可选）"), min_value=1, max_value=31, required=False
    )
    # 年化利率 counts every cost (中国人民银行公告〔2021〕第3号): the fees of the quote.
    upfront_fee = forms.DecimalField(
        label=_("一次性手续费（元）"),
        min_value=Decimal("0"),
        max_digits=15,
        decimal_places=2,
        required=False,
        help_text=_("本金全额放款，手续费由借款人单独支付"),
    )
    upfront_fee_timing = forms.TypedChoiceField(
        label=_("一次性手续费收取方式"),
        choices=[
            ("disbursement", _("放款时收取")),
            ("first_installment", _("随首期还款收取")),
        ],
        initial="disbursement",
        required=False,
        empty_value="disbursement",
    )
    installment_fee = forms.DecimalField(
        label=_("每期服务费（元）"),
        min_value=Decimal("0"),
        max_digits=15,
        decimal_places=2,
        required=False,
    )

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["start"].initial = clock.today()


ALLOCATION_CHOICES = ["penalty", "fee", "interest", "principal"]


def _yuan_field(label: Any, **kw: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, min_value=Decimal("0"), max_digits=15, decimal_places=2, **kw
    )


class DisburseForm(StyledFormMixin, forms.Form):
    value_date = forms.DateField(
        label=_("放款日（起息日）"),
        widget=IsoDateInput(),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["value_date"].initial = clock.today()


class RepaymentForm(StyledFormMixin, forms.Form):
    amount = forms.DecimalField(
        label=_("还款金额（元）"), min_value=Decimal("0.01"), max_digits=15, decimal_places=2
    )
    received_on = forms.DateField(label=_("到账日期"), widget=IsoDateInput())
    reference = forms.CharField(label=_("流水号/备注"), max_length=80, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["received_on"].initial = clock.today()
        self.fields["idempotency_key"].initial = str(uuid.uuid4())


class ReverseForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("冲正原因"), max_length=150)


class WriteOffForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(
        label=_("核销原因"),
        max_length=150,
        help_text=_("如：借款人破产清算、法院终结执行等。"),
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class VersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.product.name} v{obj.number}"


class LoanCreateForm(StyledFormMixin, forms.Form):
    customer = forms.ModelChoiceField(label=_("客户"), queryset=Customer.objects.none())
    product_version = VersionChoiceField(label=_("产品"), queryset=ProductVersion.objects.none())
    principal = forms.DecimalField(
        label=_("贷款本金（元）"), min_value=Decimal("0.01"), max_digits=15, decimal_places=2
    )
    annual_rate = forms.DecimalField(
        label=_("年利率（%）"), min_value=Decimal("0"), max_digits=7, decimal_places=4
    )
    months = forms.IntegerField(label=_("期限（月）"), min_value=1, max_value=600)
    repayment_day = forms.IntegerField(
        label=_("每月还款日（可选）"), min_value=1, max_value=28, required=False
    )

    def __init__(
        self, *args: Any, customers: Any = None, versions: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        customer_field = self.fields["customer"]
        version_field = self.fields["product_version"]
        assert isinstance(customer_field, forms.ModelChoiceField)
        assert isinstance(version_field, forms.ModelChoiceField)
        if customers is not None:
            customer_field.queryset = customers
        if versions is not None:
            version_field.queryset = versions


class ProductForm(StyledFormMixin, forms.Form):
    code = forms.SlugField(label=_("产品编码"), max_length=40)
    name = forms.CharField(label=_("产品名称"), max_length=80)

    def clean_code(self) -> str:
        code: str = self.cleaned_data["code"]
        if Product.objects.filter(code=code).exists():
            raise forms.ValidationError(_("该产品编码已存在。"))
        return code


class ProductVersionForm(StyledFormMixin, forms.Form):
    """The terms of a product version; money in yuan, stored as fen."""

    min_amount = _yuan_field(_("最低金额（元）"))
    max_amount = _yuan_field(_("最高金额（元）"))
    min_months = forms.IntegerField(label=_("最短期限（月）"), min_value=1, max_value=600)
    max_months = forms.IntegerField(label=_("最长期限（月）"), min_value=1, max_value=600)
    min_rate = forms.DecimalField(
        label=_("最低年利率（%）"),
        min_value=Decimal("0"),
        max_value=Decimal("36"),
        max_digits=7,
        decimal_places=4,
    )
    max_rate = forms.DecimalField(
        label=_("最高年利率（%）"),
        min_value=Decimal("0"),
        max_value=Decimal("36"),
        max_digits=7,
        decimal_places=4,
    )
    method = forms.ChoiceField(label=_("还款方式"), choices=METHOD_CHOICES)
    # Optional in a POST (a fixed-rate product need not send them): blank = the default.
    rate_type = forms.ChoiceField(
        label=_("利率类型"), choices=RateType.choices, initial="fixed", required=False
    )
    lpr_tenor = forms.ChoiceField(
        label=_("LPR 期限"), choices=LprTenor.choices, initial="1y", required=False
    )
    spread_bp = forms.IntegerField(
        label=_("加点（基点）"),
        min_value=-1000,
        max_value=3000,
        initial=0,
        required=False,
        help_text=_("浮动利率 = LPR + 加点；可为负数，100 基点 = 1%"),
    )
    repricing = forms.ChoiceField(
        label=_("重定价日"), choices=Repricing.choices, initial="annual_jan1", required=False
    )
    repayment_day = forms.IntegerField(
        label=_("固定还款日（可选）"), min_value=1, max_value=28, required=False
    )
    upfront_fee_rate = forms.DecimalField(
        label=_("一次性手续费率（%）"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=6,
        decimal_places=4,
        initial=Decimal("0"),
    )
    upfront_fee_timing = forms.TypedChoiceField(
        label=_("一次性手续费收取方式"),
        choices=[
            ("disbursement", _("放款时收取")),
            ("first_installment", _("随首期还款收取")),
        ],
        initial="disbursement",
        required=False,  # not sent (older clients, the API): 放款时收取
        empty_value="disbursement",
        help_text=_(
            "本金全额放款，手续费由借款人另行支付，不从放款金额中扣除（民法典第六百七十条）"
        ),
    )
    installment_fee = _yuan_field(_("每期服务费（元）"), initial=Decimal("0"))
    max_apr = forms.DecimalField(
        label=_("年化利率上限（%）"),
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        max_digits=6,
        decimal_places=2,
        initial=Decimal("24"),
        required=False,  # not sent (older clients, the API): the default 24 %
        help_text=_("IRR 法、含全部费用的年化利率（单利）上限；发布及放款时校验"),
    )
    penalty_multiplier = forms.DecimalField(
        label=_("罚息倍数"),
        min_value=Decimal("0"),
        max_digits=4,
        decimal_places=2,
        initial=Decimal("1.5"),
    )
    grace_days = forms.IntegerField(label=_("宽限期（天）"), min_value=0, max_value=365, initial=0)
    penalty_days_in_year = forms.TypedChoiceField(
        label=_("罚息计息天数"),
        choices=[(360, "actual/360"), (365, "actual/365")],
        coerce=int,
        initial=360,
    )
    compound_interest = forms.BooleanField(
        label=_("逾期利息计复利"),
        required=False,
        initial=True,
        help_text=_("按罚息利率对逾期未付利息按日计收复利（银发〔2003〕251号）"),
    )
    penalty_from = forms.ChoiceField(
        label=_("宽限期后罚息起算"),
        choices=[("due_date", _("自还款日起算")), ("grace_end", _("自宽限期届满起算"))],
        initial="due_date",
        required=False,
        help_text=_("宽限期内还清不计罚息；超过宽限期后从还款日或宽限期届满日起计罚息"),
    )
    holiday_rule = forms.TypedChoiceField(
        label=_("还款日遇节假日"),
        choices=HolidayRule.choices,
        initial=HolidayRule.DEFER_PENALTY,
        required=False,  # not sent (older clients, the API): the default 节假日顺延
        empty_value=HolidayRule.DEFER_PENALTY,
        help_text=_("节假日与调休上班日见“系统管理 → 节假日”"),
    )
    allocation_order = forms.CharField(
        label=_("还款冲抵顺序"),
        initial="penalty,fee,interest,principal",
        help_text=_("以逗号分隔 penalty（罚息）、fee（费用）、interest（利息）、principal（本金）"),
    )
    required_documents = forms.CharField(
        label=_("必备资料"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一项"),
    )

    def clean_allocation_order(self) -> list[str]:
        raw = self.cleaned_data["allocation_order"]
        items = [p.strip().lower() for p in str(raw).replace("，", ",").split(",") if p.strip()]
        if sorted(items) != sorted(ALLOCATION_CHOICES):
            raise forms.ValidationError(
                _("冲抵顺序须恰好包含 penalty、fee、interest、principal 各一次。")
            )
        return items

    def clean_required_documents(self) -> list[str]:
        raw = str(self.cleaned_data.get("required_documents") or "")
        return [line.strip() for line in raw.splitlines() if line.strip()]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        pairs = [
            ("min_amount", "max_amount", _("最低金额不能高于最高金额。")),
            ("min_months", "max_months", _("最短期限不能长于最长期限。")),
            ("min_rate", "max_rate", _("最低利率不能高于最高利率。")),
        ]
        for lo, hi, message in pairs:
            if data.get(lo) is not None and data.get(hi) is not None and data[lo] > data[hi]:
                self.add_error(hi, message)
        for name, default in (
            ("max_apr", Decimal("24")),
            ("rate_type", "fixed"),
            ("lpr_tenor", "1y"),
            ("spread_bp", 0),
            ("repricing", "annual_jan1"),
        ):
            if data.get(name) in (None, ""):
                data[name] = default
        step = period_months(data.get("method") or "")
        for name in ("min_months", "max_months"):
            if step > 1 and data.get(name) is not None and data[name] % step:
                self.add_error(name, _("按季还款的期限须为 3 个月的整数倍。"))
        if data.get("rate_type") == "lpr" and data.get("method") == "bullet":
            self.add_error(
                "rate_type", _("到期一次还本付息不支持 LPR 浮动利率（无后续期次可重定价）。")
            )
        return data

    def version_data(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["penalty_from"] = data.get("penalty_from") or "due_date"
        for name in ("min_amount", "max_amount", "installment_fee"):
            data[name] = Money(data[name])
        return data

    @staticmethod
    def initial_for(version: ProductVersion) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(version, name)
            for name in (
                "min_months",
                "max_months",
                "min_rate",
                "max_rate",
                "method",
                "rate_type",
                "lpr_tenor",
                "spread_bp",
                "repricing",
                "repayment_day",
                "upfront_fee_rate",
                "upfront_fee_timing",
                "max_apr",
                "penalty_multiplier",
                "grace_days",
                "penalty_days_in_year",
                "compound_interest",
                "penalty_from",
                "holiday_rule",
            )
        }
        for name in ("min_amount", "max_amount", "installment_fee"):
            initial[name] = getattr(version, name).yuan
        initial["allocation_order"] = ",".join(version.allocation_order or ALLOCATION_CHOICES)
        initial["required_documents"] = "\n".join(version.required_documents or [])
        return initial
