"""FastFormRenderer writes the common widget templates in Python: the HTML must be exactly
what Django's templates make of the same field, bound or not, valid or not."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import django.forms
import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.template.backends.django import DjangoTemplates as DjangoBackend
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy, override

from credo.core.formrender import (
    FAST_FORM_RENDERER,
    RENDERERS,
    SOURCES,
    FastFormRenderer,
)
from credo.core.forms import IsoDateInput, StyledFormMixin
from credo.customers.forms import AuthorizationForm, ContactForm, RelationForm


class _FieldFile:
    """A stored file as a model's FileField gives it to the form (``url`` + ``str``)."""

    url = "/media/a&b.pdf"

    def __str__(self) -> str:
        return "a&b.pdf"


class Everything(StyledFormMixin, forms.Form):
    """Every widget kind the renderer writes, plus some it leaves to the templates."""

    text = forms.CharField(
        label=mark_safe("Safe <b>label</b>"),
        max_length=10,
        help_text="with help",
        widget=forms.TextInput(
            attrs={
                "placeholder": 'say "hi" & <go>',
                "data-on": True,
                "data-off": False,
                "data-none": None,
                "data-n": 3,
                "data-safe": mark_safe("<i>"),
                "data-lazy": gettext_lazy("备注"),
            }
        ),
    )
    email = forms.EmailField(label="E&mail", required=False)
    url = forms.URLField(required=False, assume_scheme="https")
    password = forms.CharField(widget=forms.PasswordInput(render_value=True), required=False)
    secret = forms.CharField(widget=forms.PasswordInput(), required=False)
    hidden = forms.CharField(widget=forms.HiddenInput, required=False)
    number = forms.DecimalField(max_digits=6, decimal_places=3, required=False)
    count = forms.IntegerField(min_value=0, max_value=10, required=False)
    day = forms.DateField(widget=IsoDateInput(), required=False)
    when = forms.DateTimeField(required=False)
    at = forms.TimeField(required=False)
    flag = forms.BooleanField(required=False)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    grouped = forms.ChoiceField(
        choices=[
            ("", "—"),
            ("省", [("14", "山西<省>"), ("15", "内蒙古")]),
            (gettext_lazy("其他"), [(1, 2), (3, mark_safe("<b>3</b>"))]),
        ],
        required=False,
    )
    many = forms.MultipleChoiceField(choices=[("a", "A"), ("b", "B&B")], required=False)
    maybe = forms.NullBooleanField(required=False)
    upload = forms.FileField(required=False)
    plain_upload = forms.FileField(required=False, widget=forms.FileInput)
    radio = forms.ChoiceField(
        choices=[("x", "X"), ("y", "Y")], widget=forms.RadioSelect, required=False
    )
    checks = forms.MultipleChoiceField(
        choices=[("x", "X")], widget=forms.CheckboxSelectMultiple, required=False
    )
    split = forms.SplitDateTimeField(required=False)
    disabled = forms.CharField(disabled=True, required=False, initial="fixed <value>")


def _pair(form_class, *args, **kwargs):
    return (
        form_class(*args, **kwargs),
        form_class(*args, renderer=FastFormRenderer(get_default_renderer()), **kwargs),
    )


def _assert_same(django_form, fast_form):
    assert fast_form.renderer is not django_form.renderer
    for name in django_form.fields:
        want, got = django_form[name], fast_form[name]
        assert str(got) == str(want), name
        assert got.label_tag() == want.label_tag(), name
        assert got.label_tag(attrs={"class": "x"}, label_suffix=":") == want.label_tag(
            attrs={"class": "x"}, label_suffix=":"
        ), name
        assert got.legend_tag() == want.legend_tag(), name
        assert str(got.errors) == str(want.errors), name
    assert str(fast_form.non_field_errors()) == str(django_form.non_field_errors())


@pytest.mark.parametrize("form_class", [RelationForm, ContactForm, AuthorizationForm])
def test_the_360_dialogs_render_as_with_the_templates(form_class):
    _assert_same(*_pair(form_class))


@pytest.mark.parametrize("form_class", [RelationForm, ContactForm, AuthorizationForm])
def test_the_360_dialogs_bound_and_invalid_render_as_with_the_templates(form_class):
    data = {
        "kind": "nope",
        "direction": "out",
        "other": '<script>"x"</script>' * 20,
        "share_pct": "12.3456",
        "note": "a & b",
        "name": "",
        "title": "it's",
        "phone": "138",
        "is_primary": "on",
        "scope": "registry",
        "granted_by": "",
        "valid_from": "2026-13-01",
        "valid_until": "2026-01-31",
    }
    files = {"document": SimpleUploadedFile("x.txt", b"hello")}
    django_form, fast_form = _pair(form_class, data, files)
    assert not django_form.is_valid() and not fast_form.is_valid()
    _assert_same(django_form, fast_form)


def test_every_widget_kind_unbound_bound_and_with_initial_values():
    _assert_same(*_pair(Everything))
    initial = {
        "text": "x<y",
        "number": "1.5",
        "day": dt.date(2026, 1, 5),
        "when": dt.datetime(2026, 1, 5, 8, 30),
        "at": dt.time(9, 15),
        "flag": True,
        "note": "line\n<two>",
        "grouped": 1,
        "many": ["a", "b"],
        "maybe": False,
        "upload": _FieldFile(),  # a stored file: "currently … clear" (left to the template)
        "password": "pw&",
    }
    _assert_same(*_pair(Everything, initial=initial))
    data = {
        "text": "too long for ten & <b>",
        "email": "not-an-email",
        "number": "x",
        "count": "11",
        "day": "2026-02-30",
        "flag": "on",
        "note": "",
        "grouped": "14",
        "many": ["a", "z"],
        "maybe": "true",
        "radio": "y",
        "secret": "s3cret",
        "hidden": '"h"',
    }
    django_form, fast_form = _pair(Everything, data)
    assert not django_form.is_valid() and not fast_form.is_valid()
    _assert_same(django_form, fast_form)


def test_other_languages_render_the_same():
    with override("en"):
        _assert_same(*_pair(AuthorizationForm))
        _assert_same(*_pair(Everything))


def test_the_stock_templates_are_written_in_python():
    """If this fails after a Django upgrade, a widget template changed: update SOURCES and the
    Python rendering to it (until then the renderer falls back to the templates)."""
    assert set(FAST_FORM_RENDERER.fast) == set(RENDERERS)
    for name, source in SOURCES.items():
        assert get_default_renderer().get_template(name).template.source == source, name


def test_a_callable_value_is_left_to_the_template():
    class WithCallable(forms.Form):
        name = forms.CharField(widget=forms.TextInput(attrs={"data-x": lambda: "called"}))

    django_form, fast_form = _pair(WithCallable)
    assert 'data-x="called"' in str(django_form["name"])
    assert str(fast_form["name"]) == str(django_form["name"])


class _OverridingRenderer(DjangoTemplates):
    """A project that overrides one widget template (``attrs.html``)."""

    @cached_property
    def engine(self):
        return DjangoBackend(
            {
                "APP_DIRS": False,
                "DIRS": [Path(django.forms.__file__).parent / "templates"],
                "NAME": "overriding",
                "OPTIONS": {
                    "loaders": [
                        (
                            "django.template.loaders.locmem.Loader",
                            {
                                "django/forms/widgets/attrs.html": (
                                    "{% for name, value in widget.attrs.items %}"
                                    " {{ name }}={{ value }}{% endfor %}"
                                )
                            },
                        ),
                        "django.template.loaders.filesystem.Loader",
                    ]
                },
            }
        )


def test_an_overridden_template_is_rendered_by_the_template():
    overriding = _OverridingRenderer()
    fast = FastFormRenderer(overriding)
    # everything that includes attrs.html goes to the templates; the label does not use it
    assert set(fast.fast) == {"django/forms/label.html"}
    django_form = ContactForm(renderer=overriding)
    fast_form = ContactForm(renderer=fast)
    assert str(fast_form["name"]) == str(django_form["name"])
    assert "maxlength=60" in str(fast_form["name"])
    assert fast_form["name"].label_tag() == django_form["name"].label_tag()


def test_the_renderer_keeps_the_configured_renderers_settings():
    fast = FastFormRenderer()
    default = get_default_renderer()
    assert fast.fallback is default
    assert fast.form_template_name == default.form_template_name
    assert fast.field_template_name == default.field_template_name
    assert fast.formset_template_name == default.formset_template_name
    assert fast.bound_field_class == default.bound_field_class
    # a whole form ({{ form }}) goes through the configured form template
    assert str(ContactForm(renderer=fast)) == str(ContactForm())


class _CountingRenderer(DjangoTemplates):
    def __init__(self) -> None:
        self.rendered: list[str] = []

    def render(self, template_name, context, request=None):
        self.rendered.append(template_name)
        return super().render(template_name, context, request=request)


@pytest.mark.parametrize("form_class", [RelationForm, ContactForm, AuthorizationForm, Everything])
def test_the_common_widgets_do_not_reach_the_templates(form_class):
    counting = _CountingRenderer()
    form = form_class(renderer=FastFormRenderer(counting))
    for name in form.fields:
        str(form[name])
        form[name].label_tag()
    # only what the module leaves to the templates: radio/checkbox lists, multi-widgets
    assert {form.fields[n].widget.template_name for n in form.fields} & set(counting.rendered) <= {
        "django/forms/widgets/radio.html",
        "django/forms/widgets/checkbox_select.html",
        "django/forms/widgets/splitdatetime.html",
    }
    assert "django/forms/label.html" not in counting.rendered
