from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.core.forms import IsoDateField, StyledFormMixin
from credo.core.models import Holiday


class HolidayForm(StyledFormMixin, forms.Form):
    date = IsoDateField(label=_("日期"))
    kind = forms.ChoiceField(label=_("类型"), choices=Holiday.Kind.choices)
    name = forms.CharField(
        label=_("名称"), max_length=40, required=False, help_text=_("如：春节、国庆节")
    )


class HolidayImportForm(forms.Form):
    file = forms.FileField(label=_("选择文件"))
