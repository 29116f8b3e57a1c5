from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.core.forms import StyledFormMixin


class ContactForm(StyledFormMixin, forms.Form):
    channel = forms.ChoiceField(
        label=_("联系方式"),
        choices=[
            ("phone", _("电话")),
            ("visit", _("上门")),
            ("sms", _("短信")),
            ("wechat", _("微信")),
            ("other", _("其他")),
        ],
    )
    summary = forms.CharField(label=_("联系情况"), widget=forms.Textarea(attrs={"rows": 2}))


class NoteForm(StyledFormMixin, forms.Form):
    note = forms.CharField(label=_("说明"), widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200)


class AdjustLimitForm(StyledFormMixin, forms.Form):
    amount = forms.DecimalField(
        label=_("新授信额度（元）"), min_value=Decimal("0"), max_digits=15, decimal_places=2
    )
    reason = forms.CharField(label=_("原因"), max_length=200)


class CloseForm(StyledFormMixin, forms.Form):
    conclusion = forms.CharField(label=_("处理结论"), widget=forms.Textarea(attrs={"rows": 3}))


ACTION_FORMS: dict[str, type[forms.Form] | None] = {
    "acknowledge": None,
    "contact": ContactForm,
    "request_guarantee": NoteForm,
    "freeze_limit": ReasonForm,
    "adjust_limit": AdjustLimitForm,
    "escalate": NoteForm,
    "close": CloseForm,
}
