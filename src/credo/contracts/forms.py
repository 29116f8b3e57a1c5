from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.core.forms import StyledFormMixin


class TemplateForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("模板名称"), max_length=80)
    body = forms.CharField(
        label=_("模板内容（HTML）"),
        widget=forms.Textarea(attrs={"rows": 28, "class": "font-monospace", "spellcheck": "false"}),
        max_length=200_000,
    )
    note = forms.CharField(label=_("修改说明"), max_length=200, required=False)
