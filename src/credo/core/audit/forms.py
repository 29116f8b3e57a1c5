from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.core.forms import IsoDateInput


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=_("操作人"), required=False, max_length=150)
    action = forms.CharField(label=_("动作"), required=False, max_length=80)
    object_type = forms.CharField(label=_("对象类型"), required=False, max_length=80)
    object_id = forms.CharField(label=_("对象ID"), required=False, max_length=64)
    date_from = forms.DateField(label=_("开始日期"), required=False, widget=IsoDateInput())
    date_to = forms.DateField(label=_("结束日期"), required=False, widget=IsoDateInput())

    def clean(self):
        data = super().clean()
        assert data is not None  # Form.clean returns cleaned_data
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("开始日期不能晚于结束日期。"))
        return data
