"""训练新版本 form. Parameter checks live in ``services.clean_config`` (shared with the API and
the CLI); this form only collects the fields and sends on what was filled in."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.core.forms import StyledFormMixin
from credo.scorecard.models import Scorecard

# name → (label, default shown as placeholder, help)
ADVANCED: dict[str, tuple[Any, str, Any]] = {
    "base_score": (_("基准分"), "600", _("基准赔率对应的分数")),
    "base_odds": (_("基准赔率（好:坏）"), "50", _("基准分处好坏样本之比")),
    "pdo": (_("PDO（赔率翻倍分数）"), "20", _("赔率翻一倍增加的分数")),
    "max_bins": (_("最大分箱数"), "6", ""),
    "min_iv": (_("最小 IV"), "0.02", _("低于此信息值的特征不入模")),
    "max_corr": (_("最大相关系数"), "0.7", _("相关性更高的两个特征只保留 IV 较高者")),
    "max_features": (_("最多入模特征数"), "15", ""),
    "holdout": (_("验证集比例"), "0.3", _("留出不参与训练、用于验证的样本比例")),
    "grade_cuts": (
        _("等级分界"),
        "680,640,600,560",
        _("A/B/C/D 的最低分，从高到低；留空则按训练分数五等分"),
    ),
}
BOOK_FIELDS = ("outcome_dpd", "outcome_months")


class TrainForm(StyledFormMixin, forms.Form):
    name = forms.CharField(
        label=_("名称"),
        max_length=80,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": _("申请评分卡")}),
    )
    source = forms.ChoiceField(
        label=_("数据来源"),
        choices=[
            (Scorecard.Source.BOOK, _("本机构贷款历史")),
            (Scorecard.Source.CSV, _("CSV 导入")),
        ],
        initial=Scorecard.Source.BOOK,
        widget=forms.RadioSelect(attrs={"class": "form-selectgroup-input"}),
    )
    outcome_dpd = forms.IntegerField(
        label=_("逾期天数阈值"),
        required=False,
        initial=30,
        help_text=_("观察期内曾逾期达到该天数即为坏样本"),
    )
    outcome_months = forms.IntegerField(
        label=_("观察期（月）"), required=False, initial=12, help_text=_("自放款日起观察的月数")
    )
    file = forms.FileField(
        label=_("CSV 文件"),
        required=False,
        help_text=_("UTF-8 或 GBK 编码，首行为表头；列名与特征目录一致的列可用于新申请评分"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
    target = forms.CharField(
        label=_("目标列"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "bad"}),
    )
    bad_value = forms.CharField(
        label=_("坏样本取值"),
        max_length=50,
        required=False,
        initial="1",
        help_text=_("目标列中代表坏样本（违约/逾期）的取值，如 1 或 是"),
    )
    base_score = forms.CharField(required=False)
    base_odds = forms.CharField(required=False)
    pdo = forms.CharField(required=False)
    max_bins = forms.CharField(required=False)
    min_iv = forms.CharField(required=False)
    max_corr = forms.CharField(required=False)
    max_features = forms.CharField(required=False)
    holdout = forms.CharField(required=False)
    grade_cuts = forms.CharField(required=False, max_length=100)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for key, (label, default, help_text) in ADVANCED.items():
            field = self.fields[key]
            field.label = label
            field.help_text = help_text
            field.widget.attrs["placeholder"] = default
            field.widget.attrs["inputmode"] = "text" if key == "grade_cuts" else "decimal"

    def advanced_fields(self) -> list[Any]:
        return [self[key] for key in ADVANCED]

    def has_advanced_values(self) -> bool:
        return self.is_bound and any((self.data.get(k) or "").strip() for k in ADVANCED)

    def config(self) -> dict[str, Any]:
        """Only the parameters the user filled in (defaults stay the engine's)."""
        data = self.cleaned_data
        out: dict[str, Any] = {}
        for key in ADVANCED:
            value = (data.get(key) or "").strip()
            if value:
                out[key] = value
        if data.get("source") == Scorecard.Source.BOOK:
            for key in BOOK_FIELDS:
                if data.get(key) is not None:
                    out[key] = data[key]
        return out
