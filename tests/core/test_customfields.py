from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from credo.core.customfields import engine as cf
from credo.core.customfields.models import CustomField
from credo.core.money import Money

pytestmark = pytest.mark.django_db


@pytest.fixture
def fields():
    return {
        "source": CustomField.objects.create(
            entity="customer",
            key="source",
            label="来源",
            field_type="choice",
            options=[{"value": "ref", "label": "转介绍"}, {"value": "web", "label": "线上"}],
        ),
        "tags": CustomField.objects.create(
            entity="customer",
            key="tags",
            label="标签",
            field_type="multi_choice",
            options=[{"value": "a", "label": "优质"}, {"value": "b", "label": "关注"}],
        ),
        "deposit": CustomField.objects.create(
            entity="customer",
            key="deposit",
            label="存款",
            field_type="money",
            required=True,
            min_value=Decimal("0"),
        ),
        "code": CustomField.objects.create(
            entity="customer",
            key="code",
            label="编号",
            field_type="text",
            regex=r"^[A-Z]\d{3}$",
        ),
        "employees": CustomField.objects.create(
            entity="customer",
            key="employees",
            label="员工数",
            field_type="number",
        ),
    }


def test_validate_raw_accepts_labels_and_reports_chinese_errors(fields):
    values, errors = cf.validate_raw(
        "customer",
        {
            "source": "转介绍",
            "tags": "优质、关注",
            "deposit": "1,234.50",
            "code": "A123",
            "employees": "120",
        },
    )
    assert errors == {}
    assert values == {
        "source": "ref",
        "tags": ["a", "b"],
        "deposit": 123450,
        "code": "A123",
        "employees": "120",
    }
    _values, errors = cf.validate_raw("customer", {"code": "x", "source": "其他", "nope": 1})
    assert set(errors) == {"code", "source", "deposit", "nope"}
    assert errors["deposit"] == "此字段为必填项。" and "格式" in errors["code"]


def test_retired_field_values_survive_edits(fields, owner):
    stored = {"source": "ref", "legacy": "old value"}
    fields["source"].is_active = False
    fields["source"].save()
    merged = cf.merge_cleaned(
        "customer", owner, {"cf_code": "B001", "cf_deposit": Decimal("5")}, stored
    )
    assert merged["legacy"] == "old value" and merged["source"] == "ref"
    assert merged["code"] == "B001" and merged["deposit"] == 500


def test_role_restricted_field_is_hidden_and_not_editable(fields, owner, manager_role):
    from tests.factories import RoleFactory

    other = RoleFactory(code="risk_only", name="仅风控")
    fields["deposit"].view_roles.add(other)
    assert "deposit" not in {f.key for f in cf.visible_fields("customer", owner)}
    merged = cf.merge_cleaned("customer", owner, {"cf_deposit": Decimal("9")}, {"deposit": 1})
    assert merged["deposit"] == 1


def test_schema_and_definition_validation(fields):
    schema = cf.json_schema("customer")
    assert schema["properties"]["source"]["enum"] == ["ref", "web"]
    assert "deposit" in schema["required"]
    with pytest.raises(ValidationError):
        cf.validate_definition(
            field_type="choice", options=[], regex="", min_value=None, max_value=None
        )
    with pytest.raises(ValidationError):
        cf.validate_definition(
            field_type="text", options=[], regex="(", min_value=None, max_value=None
        )


@given(st.integers(min_value=0, max_value=10**12))
def test_money_storage_round_trip(fen):
    field = CustomField(entity="customer", key="m", label="m", field_type="money")
    stored = cf.to_storage(field, Money.from_fen(fen).yuan)
    assert stored == fen
    assert cf.to_form_value(field, stored) == Money.from_fen(fen).yuan


def test_filters_on_json_values(fields, owner, individual_data_factory):
    from credo.customers import services
    from credo.customers.models import Customer

    fields["source"].filterable = True
    fields["source"].save()
    fields["tags"].filterable = True
    fields["tags"].save()
    a = services.customer_create(
        actor=owner, data=individual_data_factory(1), custom={"source": "ref", "tags": ["a"]}
    )
    services.customer_create(
        actor=owner, data=individual_data_factory(2), custom={"source": "web", "tags": ["b"]}
    )
    qs = Customer.objects.all()
    assert list(cf.apply_filters(qs, "customer", owner, {"cf_source": "ref"})) == [a]
    assert list(cf.apply_filters(qs, "customer", owner, {"cf_tags": "a"})) == [a]
