from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.collections.models import Channel, Outcome, Tier
from credo.core.forms import IsoDateInput, StyledFormMixin
from credo.core.money import parse_money


class ContactForm(StyledFormMixin, forms.Form):
    """The dial log. Deliberately no amount fields: third parties are never told debt details."""

    target = forms.ChoiceField(label=_("联系对象"))
    channel = forms.ChoiceField(label=_("方式"), choices=Channel.choices)
    outcome = forms.ChoiceField(label=_("结果"), choices=Outcome.choices)
    notes = forms.CharField(
        label=_("备注"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: Any, targets: list[dict[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        target = self.fields["target"]
        assert isinstance(target, forms.ChoiceField)
        target.choices = [(t["key"], f"{t['name']}（{t['title']}）") for t in targets]


class PromiseForm(StyledFormMixin, forms.Form):
    promised_date = forms.DateField(label=_("承诺还款日"), widget=IsoDateInput())
    amount = forms.CharField(label=_("承诺金额（元）"))

    def clean_amount(self) -> Any:
        return parse_money(self.cleaned_data["amount"])


class DoNotContactForm(StyledFormMixin, forms.Form):
    target = forms.ChoiceField(label=_("拒绝联系范围"))
    reason = forms.CharField(label=_("拒绝联系原因"), max_length=200)

    def __init__(self, *args: Any, targets: list[dict[str, Any]], **kwargs: Any) -> None:
        # Own ids: the dial-log form on the same page also has a "target" field.
        kwargs.setdefault("auto_id", "id_dnc_%s")
        super().__init__(*args, **kwargs)
        target = self.fields["target"]
        assert isinstance(target, forms.ChoiceField)
        target.choices = [("all", _("该客户全部号码"))] + [
            (t["key"], f"{t['name']}（{t['title']}）") for t in targets
        ]


class ReassignForm(StyledFormMixin, forms.Form):
    assignee: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        label=_("改派给"),
        queryset=None,  # type: ignore[arg-type]
        empty_label=_("请选择催收员"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from credo.accounts.models import User

        super().__init__(*args, **kwargs)
        assignee = self.fields["assignee"]
        assert isinstance(assignee, forms.ModelChoiceField)
        assignee.queryset = User.objects.filter(
            is_active=True, roles__code__in=["collector_junior", "collector_senior"]
        ).distinct()


class ScriptForm(StyledFormMixin, forms.Form):
    tier = forms.ChoiceField(label=_("催收阶段"), choices=Tier.choices)
    text = forms.CharField(label=_("话术"), widget=forms.Textarea(attrs={"rows": 6}))
