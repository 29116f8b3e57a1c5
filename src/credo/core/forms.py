"""Form helpers shared by every app."""

from __future__ import annotations

from typing import Any

from django import forms


def style_form(form: forms.BaseForm) -> None:
    """Give every widget the Tabler/Bootstrap class it needs; no ':' after labels."""
    form.label_suffix = ""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
            continue
        if isinstance(widget, forms.CheckboxInput):
            css = "form-check-input"
        elif isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select"
        elif isinstance(widget, forms.HiddenInput):
            continue
        else:
            css = "form-control"
        classes = widget.attrs.get("class", "")
        if css not in classes.split():
            classes = f"{classes} {css}".strip()
        widget.attrs["class"] = classes


class StyledFormMixin:
    """Mixin: call :func:`style_form` after the form's own ``__init__``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[call-arg]
        style_form(self)  # type: ignore[arg-type]
