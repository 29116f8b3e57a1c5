"""Forms of the books pages (ISO months, Chinese labels)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credo.lending.books import vouchers

CSV = "csv"


class MonthField(forms.CharField):
    def to_python(self, value: Any) -> Any:
        from credo.lending.books.selectors import parse_month

        value = super().to_python(value)
        if not value:
            return None
        try:
            return parse_month(value)
        except ValueError:
            raise forms.ValidationError(_("请按 YYYY-MM 填写会计期间。")) from None


class PeriodForm(forms.Form):
    period = MonthField(label=_("会计期间"), widget=forms.TextInput(attrs={"type": "month"}))


class ReopenForm(forms.Form):
    reason = forms.CharField(label=_("反结账原因"), max_length=300)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("意见"), max_length=200, required=False)


def system_choices() -> list[tuple[str, Any]]:
    return [(f.key, f.label) for f in vouchers.FORMATS.values()] + [
        (CSV, _("通用 CSV（每行一条分录）"))
    ]


class VoucherForm(forms.Form):
    system = forms.ChoiceField(label=_("财务软件"))
    period = MonthField(label=_("会计期间"), widget=forms.TextInput(attrs={"type": "month"}))
    mode = forms.ChoiceField(
        label=_("凭证方式"), choices=list(vouchers.MODES.items()), initial=vouchers.DETAILED
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["system"].choices = system_choices()  # type: ignore[attr-defined]
