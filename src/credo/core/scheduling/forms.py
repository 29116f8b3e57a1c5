from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.core.scheduling.cron import cron_error
from credo.core.scheduling.selectors import LEASE_FILTERS, STATUS_LABELS


class TaskRunFilterForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部"))]
        + [(k, _(v)) for k, v in STATUS_LABELS.items()]
        + [(k, _(v)) for k, v in LEASE_FILTERS.items()],
    )
    task = forms.CharField(label=_("任务"), required=False, max_length=200)
    queue = forms.CharField(label=_("队列"), required=False, max_length=32)


class CronForm(forms.Form):
    cron = forms.CharField(label=_("Cron 表达式"), max_length=100)

    def clean_cron(self) -> str:
        value = " ".join(self.cleaned_data["cron"].split())
        error = cron_error(value)
        if error:
            raise forms.ValidationError(error)
        return value
