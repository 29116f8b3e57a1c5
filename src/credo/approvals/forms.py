from __future__ import annotations

import json
from collections.abc import Sequence
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


class PreviewForm(StyledFormMixin, forms.Form):
    """The sample a designer preview routes: typed elements, or an existing application's."""

    instance = forms.TypedChoiceField(
        label=_("已有申请"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("选择后按该申请的审批要素预览，忽略下面的样例"),
    )
    amount = forms.DecimalField(
        label=_("金额（元）"),
        required=False,
        min_value=Decimal("0"),
        max_digits=16,
        decimal_places=2,
    )
    months = forms.IntegerField(label=_("期限（月）"), required=False, min_value=1, max_value=600)
    product = forms.CharField(label=_("产品编码"), required=False, max_length=60)
    risk_grade = forms.CharField(label=_("风险等级"), required=False, max_length=10)
    branch = forms.ChoiceField(label=_("机构"), required=False)
    applicant = forms.TypedChoiceField(
        label=_("申请人（客户经理）"), required=False, coerce=int, empty_value=None
    )

    def __init__(
        self,
        *args: Any,
        instances: Sequence[Any] = (),
        branches: Sequence[Any] = (),
        users: Sequence[Any] = (),
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("prefix", "pv")
        super().__init__(*args, **kwargs)
        choices: dict[str, list[tuple[Any, Any]]] = {
            "instance": [("", _("（不选，用样例）"))]
            + [(i.pk, f"{i.title}（{i.get_status_display()}）") for i in instances],
            "branch": [("", _("（申请人所在机构）"))] + [(b.code, b.name) for b in branches],
            "applicant": [("", _("（无）"))] + [(u.pk, f"{u}（{u.username}）") for u in users],
        }
        for name, options in choices.items():
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = options

    def context(self) -> dict[str, Any]:
        """The sample as approval elements (amount in fen, like an application sends)."""
        data = self.cleaned_data
        amount = data.get("amount")
        return {
            "amount": Money(amount).fen if amount is not None else 0,
            "months": data.get("months") or 12,
            "product": data.get("product") or "",
            "risk_grade": (data.get("risk_grade") or "").upper(),
            "branch": data.get("branch") or "",
        }
