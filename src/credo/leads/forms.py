from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from credo.core import clock
from credo.core.forms import IsoDateInput, StyledFormMixin
from credo.leads.models import FollowUp, Lead

HONEYPOT = "website"


class LeadForm(StyledFormMixin, forms.Form):
    """Raw input; the service (``clean_lead``) validates and reports field errors."""

    name = forms.CharField(label=_("名称（企业或个人）"), max_length=120)
    contact_name = forms.CharField(label=_("联系人"), max_length=60, required=False)
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=18, required=False)
    source = forms.ChoiceField(label=_("来源渠道"), choices=Lead.Source.choices)
    campaign = forms.CharField(label=_("活动/推广计划"), max_length=80, required=False)
    region_code = forms.CharField(label=_("所在地区（行政区划代码）"), max_length=6, required=False)
    business_type = forms.ChoiceField(
        label=_("业务类型"), choices=[("", "—"), *Lead.BusinessType.choices], required=False
    )
    requested_amount = forms.DecimalField(
        label=_("意向金额（元）"), max_digits=14, decimal_places=2, required=False, min_value=0
    )
    note = forms.CharField(
        label=_("备注"), widget=forms.Textarea(attrs={"rows": 3}), required=False
    )


class PublicLeadForm(StyledFormMixin, forms.Form):
    name = forms.CharField(label=_("企业名称或您的姓名"), max_length=120)
    contact_name = forms.CharField(label=_("联系人"), max_length=60, required=False)
    phone = forms.CharField(label=_("手机号"), max_length=20)
    region_code = forms.CharField(label=_("所在地区代码"), max_length=6, required=False)
    business_type = forms.ChoiceField(
        label=_("贷款类型"), choices=[("", "—"), *Lead.BusinessType.choices], required=False
    )
    requested_amount = forms.DecimalField(
        label=_("意向金额（元）"), max_digits=14, decimal_places=2, required=False, min_value=0
    )
    note = forms.CharField(
        label=_("留言"), widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=500
    )
    # Honeypot: hidden from people by CSS; bots fill every field.
    website = forms.CharField(label=_("网址（请勿填写）"), required=False)


class FollowUpForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(label=_("方式"), choices=FollowUp.Kind.choices)
    outcome = forms.CharField(label=_("结果"), max_length=200)
    notes = forms.CharField(
        label=_("记录"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    next_step = forms.CharField(label=_("下一步"), max_length=200, required=False)
    next_date = forms.DateField(label=_("下次跟进日期"), required=False, widget=IsoDateInput())

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["next_date"].widget.attrs["min"] = clock.today().isoformat()


class StageForm(StyledFormMixin, forms.Form):
    stage = forms.ChoiceField(label=_("阶段"), choices=Lead.Stage.choices)
    reason = forms.CharField(label=_("流失原因"), max_length=200, required=False)


class ConvertForm(StyledFormMixin, forms.Form):
    kind = forms.ChoiceField(
        label=_("客户类型"), choices=[("enterprise", _("企业")), ("individual", _("个人"))]
    )
    id_number = forms.CharField(label=_("身份证号（个人客户必填）"), max_length=18, required=False)
    start_application = forms.BooleanField(label=_("同时发起贷款申请"), required=False)


class AssignForm(StyledFormMixin, forms.Form):
    user = forms.ModelChoiceField(
        label=_("分配给"), queryset=get_user_model().objects.none(), required=False
    )

    def __init__(self, *args: Any, users: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["user"]
        assert isinstance(field, forms.ModelChoiceField)
        if users is not None:
            field.queryset = users
        field.empty_label = str(_("按分配规则自动分配"))


class BookForm(StyledFormMixin, forms.Form):
    from_user = forms.ModelChoiceField(
        label=_("移交人（离职员工）"), queryset=get_user_model().objects.order_by("username")
    )
    to_user = forms.ModelChoiceField(
        label=_("接收人"),
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
    )


class ImportForm(StyledFormMixin, forms.Form):
    file = forms.FileField(label=_("文件（.xlsx 或 .csv）"))
    default_source = forms.ChoiceField(
        label=_("默认来源渠道（文件未填时）"), choices=Lead.Source.choices, initial="other"
    )
