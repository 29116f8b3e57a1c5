from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from credo.core.customfields.engine import validate_definition
from credo.core.customfields.models import CustomField
from credo.core.forms import StyledFormMixin


class CustomFieldForm(StyledFormMixin, forms.ModelForm):
    options_text = forms.CharField(
        label=_("选项"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("每行一个选项，格式：值=显示名称，例如 A=优质客户"),
    )

    class Meta:
        model = CustomField
        fields = [
            "entity",
            "key",
            "label",
            "field_type",
            "required",
            "min_value",
            "max_value",
            "regex",
            "help_text",
            "group",
            "order",
            "filterable",
            "show_in_list",
            "view_roles",
            "edit_roles",
            "is_active",
        ]
        widgets = {
            "view_roles": forms.CheckboxSelectMultiple,
            "edit_roles": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args: Any, has_values: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["entity"].disabled = True
            self.fields["key"].disabled = True
            if has_values:
                # Changing the type would make stored values unreadable.
                self.fields["field_type"].disabled = True
                self.fields["field_type"].help_text = _("已有数据，类型不可修改")
            self.initial["options_text"] = "\n".join(
                f"{o.get('value')}={o.get('label', o.get('value'))}" for o in self.instance.options
            )

    def clean_key(self) -> str:
        key = self.cleaned_data["key"]
        if not key.replace("_", "").isalnum() or not key[0].isalpha() or not key.isascii():
            raise ValidationError(_("字段标识只能包含英文字母、数字和下划线，并以字母开头。"))
        return key.lower()

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        options = []
        for line in (data.get("options_text") or "").splitlines():
            line = line.strip()
            if not line:
                continue
            value, _sep, label = line.partition("=")
            options.append({"value": value.strip(), "label": (label or value).strip()})
        try:
            validate_definition(
                field_type=data.get("field_type") or "",
                options=options,
                regex=data.get("regex") or "",
                min_value=data.get("min_value"),
                max_value=data.get("max_value"),
            )
        except ValidationError as exc:
            self.add_error(None, exc)
        self.instance.options = options
        return data


def options_json(field: CustomField) -> str:
    return json.dumps(field.options, ensure_ascii=False)
