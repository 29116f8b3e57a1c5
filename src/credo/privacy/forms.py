from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.core.forms import IsoDateField, StyledFormMixin
from credo.customers.models import Customer
from credo.leads.models import Lead
from credo.notify.models import Kind, MarketingConsent
from credo.privacy.models import DataSubjectRequest


class RequestForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("请求类型"), choices=DataSubjectRequest.Kind.choices)
    customer = forms.IntegerField(label=_("客户编号"), required=False, min_value=1)
    lead = forms.IntegerField(label=_("线索编号"), required=False, min_value=1)
    received_on = IsoDateField(label=_("收到日期"))
    detail = forms.CharField(
        label=_("请求内容"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        cid, lid = data.get("customer"), data.get("lead")
        if bool(cid) == bool(lid):
            raise forms.ValidationError(_("请填写客户编号或线索编号（只填一个）。"))
        if cid:
            data["customer_obj"] = Customer.objects.filter(pk=cid).first()
            if data["customer_obj"] is None:
                self.add_error("customer", _("没有这个客户。"))
        if lid:
            data["lead_obj"] = Lead.objects.filter(pk=lid).first()
            if data["lead_obj"] is None:
                self.add_error("lead", _("没有这条线索。"))
        return data


class OutcomeForm(StyledFormMixin, forms.Form):
    outcome = forms.CharField(label=_("处理结果"), widget=forms.Textarea(attrs={"rows": 2}))


class RejectForm(StyledFormMixin, forms.Form):
    reason = forms.CharField(label=_("拒绝理由"), widget=forms.Textarea(attrs={"rows": 2}))


class HoldForm(StyledFormMixin, forms.Form):
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    lead = forms.IntegerField(required=False, widget=forms.HiddenInput)
    reason = forms.CharField(label=_("保全事由"), max_length=200)


class ConsentForm(StyledFormMixin, forms.Form):
    customer = forms.IntegerField(required=False, widget=forms.HiddenInput)
    lead = forms.IntegerField(required=False, widget=forms.HiddenInput)
    channel = forms.ChoiceField(
        label=_("渠道"),
        required=False,
        choices=[("", _("全部渠道")), *[(k, lbl) for k, lbl in Kind.choices if k != Kind.INAPP]],
    )
    source = forms.ChoiceField(label=_("取得方式"), choices=MarketingConsent.Source.choices)
    note = forms.CharField(label=_("备注"), required=False, max_length=200)
