"""Every date input renders ISO (YYYY-MM-DD) in every UI language (issue 15, item 1).

A browser's ``<input type="date">`` accepts only ISO; zh-Hans formats a date as ``2015/06/18``,
which the browser shows blank, so a form saved unchanged erased the date.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil

import pytest
from django import forms
from django.utils import translation

import credo
from credo.core.customfields.engine import form_field
from credo.core.customfields.models import CustomField, FieldType

DAY = dt.date(2015, 6, 18)
LANGUAGES = ["zh-hans", "en"]


def _all_form_classes() -> list[type[forms.BaseForm]]:
    for mod in pkgutil.walk_packages(credo.__path__, "credo."):
        name = mod.name
        if ".migrations" in name or ".management" in name or name.endswith((".wsgi", ".cli")):
            continue
        if name.rsplit(".", 1)[-1] in ("forms", "views") or name.endswith("_views"):
            importlib.import_module(name)
    seen: list[type[forms.BaseForm]] = []
    stack = [forms.BaseForm]
    while stack:
        cls = stack.pop()
        for sub in cls.__subclasses__():
            stack.append(sub)
            if sub.__module__.startswith("credo.") and sub not in seen:
                seen.append(sub)
    return seen


def _date_fields() -> list[tuple[str, forms.Field]]:
    found = []
    for cls in _all_form_classes():
        for fname, field in cls.base_fields.items():
            if isinstance(field, forms.DateField) and not isinstance(field, forms.DateTimeField):
                found.append((f"{cls.__module__}.{cls.__qualname__}.{fname}", field))
    return found


def test_the_project_has_date_forms_to_check():
    names = [n for n, _ in _date_fields()]
    # The walk must see the forms the defect was found on, or the test below proves nothing.
    assert any("customers.forms" in n and n.endswith(".founded_on") for n in names)
    assert any("eod_views" in n or "eod.views" in n for n in names)
    assert len(names) >= 10


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_date_field_renders_iso(language):
    bad = []
    with translation.override(language):
        for name, field in _date_fields():
            html = field.widget.render("d", DAY)
            if 'value="2015-06-18"' not in html or 'type="date"' not in html:
                bad.append(f"{name}: {html}")
    assert not bad, "date inputs not ISO:\n" + "\n".join(bad)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_date_field_accepts_iso(language):
    with translation.override(language):
        for _name, field in _date_fields():
            assert field.clean("2015-06-18") == DAY


@pytest.mark.parametrize("language", LANGUAGES)
def test_custom_date_field_renders_iso(language):
    cf = CustomField(entity="customer", key="visit", label="走访日期", field_type=FieldType.DATE)
    with translation.override(language):
        html = form_field(cf).widget.render("cf_visit", DAY)
    assert 'value="2015-06-18"' in html and 'type="date"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("language", LANGUAGES)
def test_customer_edit_form_renders_stored_founding_date_iso(language):
    from credo.customers.forms import CustomerForm
    from tests.factories import UserFactory

    user = UserFactory(is_superuser=True)
    with translation.override(language):
        form = CustomerForm(kind="enterprise", user=user, initial={"founded_on": DAY})
        html = str(form["founded_on"])
    assert 'value="2015-06-18"' in html
