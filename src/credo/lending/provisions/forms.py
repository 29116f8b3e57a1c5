"""Forms of the provisions pages."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.core.forms import StyledFormMixin


def _pct(label: Any, help_text: Any = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label, max_digits=6, decimal_places=3, min_value=0, max_value=100, help_text=help_text
    )


class RatesForm(StyledFormMixin, forms.Form):
    general_pct = _pct(
        _("一般准备（% 贷款余额）"), _("《指引》：一般准备年末余额不低于贷款余额的 1%")
    )
    normal_pct = _pct(_("正常类专项准备（%）"), _("《指引》未要求，默认 0"))
    special_mention_pct = _pct(_("关注类专项准备（%）"), _("《指引》：2%"))
    substandard_pct = _pct(_("次级类专项准备（%）"), _("《指引》：25%，可上下浮动 20%（20%–30%）"))
    doubtful_pct = _pct(_("可疑类专项准备（%）"), _("《指引》：50%，可上下浮动 20%（40%–60%）"))
    loss_pct = _pct(_("损失类专项准备（%）"), _("《指引》：100%"))
    note = forms.CharField(label=_("调整说明"), max_length=200)


class RunForm(StyledFormMixin, forms.Form):
    month = forms.RegexField(
        label=_("会计期间"),
        regex=r"^\d{4}-\d{2}$",
        error_messages={"invalid": _("请按 YYYY-MM 填写会计期间。")},
        widget=forms.TextInput(attrs={"placeholder": "YYYY-MM"}),
    )
