"""Form fields rendered to the same HTML without running Django's widget templates.

Every ``{{ form.field }}`` and ``{{ form.field.label_tag }}`` runs the template engine on a
widget template that includes ``attrs.html`` (the label: ``label.html`` + ``attrs.html``) —
about 0.1 ms a field. The customer 360 page renders its three add-dialog forms (15 fields,
~40 template renders) on every view, for a dialog most views never open.

:class:`FastFormRenderer` is a form renderer (``Form(renderer=...)``) that writes the common
widget templates — ``<input>`` of every type, checkbox, ``<select>``, ``<textarea>``, file
input without an initial file, and the label — in Python: the same markup, escaping and
whitespace (the renderer strips the output like Django's). It only does so for a template whose
source is exactly the one it reproduces, checked once against what the configured renderer
(``FORM_RENDERER``) would load: an app overriding a widget template, or a Django upgrade that
changes one, gets the template. Every other template (errors, ``{{ form }}``, radio lists,
multi-widgets, …), and any value it does not expect (e.g. a callable, which a template would
call), goes to the configured renderer. The field, widget and form logic (attributes,
``required``, ``aria-*``, bound values, validation) is Django's own: only the last step, turning
the widget's context into text, is replaced.
"""

from __future__ import annotations

import operator
from typing import Any

from django.forms.renderers import BaseRenderer, get_default_renderer
from django.utils.formats import localize
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeData
from django.utils.timezone import template_localtime  # type: ignore[attr-defined]  # (no stub)

W = "django/forms/widgets/"
ATTRS = W + "attrs.html"
INPUT = W + "input.html"
SELECT_OPTION = W + "select_option.html"
LABEL = "django/forms/label.html"
LABEL_ATTRS = "django/forms/attrs.html"

# The sources this module reproduces (Django 4.x-5.x), by template name.
_ATTRS_SRC = (
    "{% for name, value in widget.attrs.items %}{% if value is not False %} {{ name }}"
    "{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}"
    "{% endfor %}"
)
_INCLUDE_INPUT_SRC = '{% include "django/forms/widgets/input.html" %}\n'
SOURCES: dict[str, str] = {
    ATTRS: _ATTRS_SRC,
    LABEL_ATTRS: _ATTRS_SRC.replace("widget.attrs.items", "attrs.items"),
    INPUT: (
        '<input type="{{ widget.type }}" name="{{ widget.name }}"{% if widget.value != None %}'
        " value=\"{{ widget.value|stringformat:'s' }}\"{% endif %}"
        '{% include "django/forms/widgets/attrs.html" %}>\n'
    ),
    SELECT_OPTION: (
        "<option value=\"{{ widget.value|stringformat:'s' }}\""
        '{% include "django/forms/widgets/attrs.html" %}>{{ widget.label }}</option>\n'
    ),
    W + "select.html": (
        '<select name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>'
        "{% for group_name, group_choices, group_index in widget.optgroups %}"
        '{% if group_name %}\n  <optgroup label="{{ group_name }}">{% endif %}'
        "{% for option in group_choices %}\n"
        "  {% include option.template_name with widget=option %}{% endfor %}"
        "{% if group_name %}\n  </optgroup>{% endif %}{% endfor %}\n</select>\n"
    ),
    W + "textarea.html": (
        '<textarea name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>\n'
        "{% if widget.value %}{{ widget.value }}{% endif %}</textarea>\n"
    ),
    W + "clearable_file_input.html": (
        "{% if widget.is_initial %}{{ widget.initial_text }}: "
        '<a href="{{ widget.value.url }}">{{ widget.value }}</a>{% if not widget.required %}\n'
        '<input type="checkbox" name="{{ widget.checkbox_name }}" id="{{ widget.checkbox_id }}"'
        "{% if widget.attrs.disabled %} disabled{% endif %}"
        "{% if widget.attrs.checked %} checked{% endif %}>\n"
        '<label for="{{ widget.checkbox_id }}">{{ widget.clear_checkbox_label }}</label>'
        "{% endif %}<br>\n{{ widget.input_text }}:{% endif %}\n"
        '<input type="{{ widget.type }}" name="{{ widget.name }}"'
        '{% include "django/forms/widgets/attrs.html" %}>\n'
    ),
    LABEL: (
        "{% if use_tag %}<{{ tag }}{% include 'django/forms/attrs.html' %}>{{ label }}</{{ tag }}>"
        "{% else %}{{ label }}{% endif %}\n"
    ),
}
INPUT_TYPES = (
    "checkbox",
    "color",
    "date",
    "datetime",
    "email",
    "file",
    "hidden",
    "number",
    "password",
    "search",
    "tel",
    "text",
    "time",
    "url",
)
for _type in INPUT_TYPES:
    SOURCES[f"{W}{_type}.html"] = _INCLUDE_INPUT_SRC


class Unsupported(Exception):
    """A value the Python rendering does not reproduce: the template renders it."""


def text(value: Any) -> str:
    """``{{ value }}`` in an autoescaping template (localized, escaped unless safe)."""
    if type(value) is str:
        return escape(value)
    if callable(value):  # the template engine would call it
        raise Unsupported
    value = localize(template_localtime(value))
    return conditional_escape(value if isinstance(value, str) else str(value))


def stringformat(value: Any) -> str:
    """``{{ value|stringformat:'s' }}`` in an autoescaping template."""
    if callable(value):
        raise Unsupported
    if isinstance(value, tuple):
        value = str(value)
    try:
        out = "%s" % value  # noqa: UP031 (exactly the filter's formatting)
    except (TypeError, ValueError):
        out = ""
    return out if isinstance(value, SafeData) else escape(out)


def attrs(items: Any) -> str:
    """``django/forms/widgets/attrs.html`` / ``django/forms/attrs.html``."""
    if not items:
        return ""
    out = []
    for name, value in items.items():
        if callable(value):
            raise Unsupported
        if value is False:
            continue
        out.append(f" {text(name)}" if value is True else f' {text(name)}="{stringformat(value)}"')
    return "".join(out)


def render_input(widget: dict[str, Any]) -> str:
    value = widget["value"]
    if callable(value):
        raise Unsupported
    html = f'<input type="{text(widget["type"])}" name="{text(widget["name"])}"'
    if operator.ne(value, None):  # the template's ``widget.value != None``
        html += f' value="{stringformat(value)}"'
    return f"{html}{attrs(widget['attrs'])}>"


def render_select(widget: dict[str, Any]) -> str:
    parts = [f'<select name="{text(widget["name"])}"{attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if callable(group_name):
            raise Unsupported
        if group_name:
            parts.append(f'\n  <optgroup label="{text(group_name)}">')
        for option in group_choices:
            if option["template_name"] != SELECT_OPTION:
                raise Unsupported
            parts.append(
                f'\n  <option value="{stringformat(option["value"])}"{attrs(option["attrs"])}>'
                f"{text(option['label'])}</option>\n"
            )
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


def render_textarea(widget: dict[str, Any]) -> str:
    value = widget["value"]
    if callable(value):
        raise Unsupported
    body = text(value) if value else ""
    return f'<textarea name="{text(widget["name"])}"{attrs(widget["attrs"])}>\n{body}</textarea>'


def render_clearable_file_input(widget: dict[str, Any]) -> str:
    if widget["is_initial"]:  # the "currently: …  clear" block: left to the template
        raise Unsupported
    return f'<input type="{text(widget["type"])}" name="{text(widget["name"])}"{attrs(widget["attrs"])}>'


def render_label(context: dict[str, Any]) -> str:
    label = context["label"]
    if not context["use_tag"]:
        return text(label)
    tag = text(context["tag"])
    return f"<{tag}{attrs(context['attrs'])}>{text(label)}</{tag}>"


# template name → (renderer, the templates it stands for, includes included)
RENDERERS: dict[str, tuple[Any, tuple[str, ...]]] = {
    INPUT: (lambda c: render_input(c["widget"]), (INPUT, ATTRS)),
    W + "select.html": (
        lambda c: render_select(c["widget"]),
        (W + "select.html", ATTRS, SELECT_OPTION),
    ),
    W + "textarea.html": (lambda c: render_textarea(c["widget"]), (W + "textarea.html", ATTRS)),
    W + "clearable_file_input.html": (
        lambda c: render_clearable_file_input(c["widget"]),
        (W + "clearable_file_input.html", ATTRS),
    ),
    LABEL: (render_label, (LABEL, LABEL_ATTRS)),
}
for _type in INPUT_TYPES:
    RENDERERS[f"{W}{_type}.html"] = (
        lambda c: render_input(c["widget"]),
        (f"{W}{_type}.html", INPUT, ATTRS),
    )


class FastFormRenderer(BaseRenderer):
    """The configured form renderer, with the common widget templates written in Python."""

    def __init__(self, fallback: BaseRenderer | None = None) -> None:
        self._fallback = fallback

    @cached_property
    def fallback(self) -> BaseRenderer:
        return self._fallback or get_default_renderer()

    @cached_property
    def fast(self) -> dict[str, Any]:
        """The templates rendered in Python: those whose own source and included sources are
        exactly what this module reproduces, as the fallback renderer loads them."""
        loaded: dict[str, bool] = {}

        def same(name: str) -> bool:
            if name not in loaded:
                try:
                    template = self.fallback.get_template(name)
                except Exception:  # noqa: BLE001 (missing/unloadable: the template path decides)
                    loaded[name] = False
                else:
                    source = getattr(getattr(template, "template", None), "source", None)
                    loaded[name] = source == SOURCES[name]
            return loaded[name]

        return {name: fn for name, (fn, needs) in RENDERERS.items() if all(same(n) for n in needs)}

    # the renderer's other attributes are the configured renderer's
    @property
    def form_template_name(self) -> str:  # type: ignore[override]
        return self.fallback.form_template_name

    @property
    def formset_template_name(self) -> str:  # type: ignore[override]
        return self.fallback.formset_template_name

    @property
    def field_template_name(self) -> str:  # type: ignore[override]
        return self.fallback.field_template_name

    @property
    def bound_field_class(self) -> Any:  # type: ignore[override]
        return self.fallback.bound_field_class

    def get_template(self, template_name: str) -> Any:
        return self.fallback.get_template(template_name)

    def render(self, template_name: str, context: Any, request: Any = None) -> str:
        fn = self.fast.get(template_name) if request is None else None
        if fn is not None:
            try:
                return fn(context).strip()
            except (Unsupported, KeyError, TypeError, AttributeError, ValueError):
                pass  # anything unexpected: exactly what the template makes of it
        return self.fallback.render(template_name, context, request=request)


FAST_FORM_RENDERER = FastFormRenderer()
