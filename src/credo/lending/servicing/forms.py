from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.core.forms import IsoDateField, StyledFormMixin
from credo.core.money import Money
from credo.lending.models import Loan

ATTACHMENT_MAX = 10 * 1024 * 1024


def _yuan_field(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )


class WaiverRequestForm(StyledFormMixin, forms.Form):
    value_date = IsoDateField(label=_("减免生效日"))
    penalty = _yuan_field(_("减免罚息（元）"))
    compound = _yuan_field(_("减免复利（元）"))
    fee = _yuan_field(_("减免费用（元）"))
    interest = _yuan_field(_("减免利息（元）"))
    reason = forms.CharField(
        label=_("减免原因"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("如：借款人因疫情/重大疾病短期失联后已还清欠款，申请减免期间罚息。"),
    )
    attachment = forms.FileField(label=_("附件（PDF/图片，可选）"), required=False)

    def __init__(self, *args: Any, components: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for comp in ("penalty", "compound", "fee", "interest"):
            if comp not in components:
                del self.fields[comp]
        self.components = tuple(c for c in components if c in self.fields)

    def clean_attachment(self) -> Any:
        doc = self.cleaned_data.get("attachment")
        if doc is None:
            return None
        if not doc.name.lower().endswith((".pdf", ".jpg", ".jpeg", ".png")):
            raise forms.ValidationError(_("附件只能上传 PDF 或 JPG/PNG 图片。"))
        if doc.size > ATTACHMENT_MAX:
            raise forms.ValidationError(_("文件不能超过 10 MB。"))
        head = doc.read(8)
        doc.seek(0)
        if not (head.startswith((b"%PDF", b"\xff\xd8", b"\x89PNG"))):
            raise forms.ValidationError(_("文件内容与类型不符。"))
        return doc

    def amounts(self) -> dict[str, int]:
        out = {}
        for comp in self.components:
            value = self.cleaned_data.get(comp)
            if value:
                out[comp] = Money(value).fen
        return out


class DecisionForm(StyledFormMixin, forms.Form):
    note = forms.CharField(label=_("审批意见"), max_length=200, required=False)


class ClassificationRequestForm(StyledFormMixin, forms.Form):
    to_class = forms.ChoiceField(label=_("调整为"), choices=Loan.Classification.choices)
    until = IsoDateField(
        label=_("有效期至"),
        required=False,
        help_text=_("留空为 6 个月；到期后由日终按逾期天数自动分类。"),
    )
    reason = forms.CharField(
        label=_("调整原因"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("如：借款人主要收入来源中断，虽未逾期但还款能力明显下降。"),
    )
