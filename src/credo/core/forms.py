"""Form helpers shared by every app."""

from __future__ import annotations

from typing import Any

from django import forms

ISO_DATE = "%Y-%m-%d"


class IsoDateInput(forms.DateInput):
    """The one date widget: an HTML5 ``<input type="date">`` whose value is always ISO
    (``YYYY-MM-DD``), whatever the UI language.

    Django's ``DateInput`` renders the active locale's first input format (``2015/06/18`` in
    zh-Hans); a browser's date input only accepts ISO and shows such a value as blank, so a
    form saved unchanged would erase the date.
    """

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None, format: str | None = None) -> None:
        super().__init__(attrs=attrs, format=format or ISO_DATE)


class IsoDateField(forms.DateField):
    """A date form field with :class:`IsoDateInput`; accepts ISO input in every language."""

    widget = IsoDateInput
    input_formats = [ISO_DATE, "%Y/%m/%d", "%Y年%m月%d日"]


def style_form(form: forms.BaseForm) -> None:
    """Give every widget the Tabler/Bootstrap class it needs; no ':' after labels."""
    form.label_suffix = ""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.DateInput) and not isinstance(widget, IsoDateInput):
            # Any date widget that slipped past IsoDateInput still renders ISO.
            widget.format = ISO_DATE
            widget.input_type = "date"
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
