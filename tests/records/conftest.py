from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from credo.core.money import Money
from credo.customers.models import Customer
from credo.records import services
from tests.factories import UserFactory, published_product_version, role_with_perms

FILL_PERMS = (
    "records.view_customrecord",
    "records.add_customrecord",
    "records.change_customrecord",
    "customers.view_customer",
    "lending.view_loan",
    "origination.view_application",
)

#: 贷后检查表: every kind of field
FIELDS = [
    {"key": "visit_date", "label": "检查日期", "type": "date", "required": True},
    {
        "key": "result",
        "label": "检查结论",
        "type": "choice",
        "required": True,
        "options": [{"value": "ok", "label": "正常"}, {"value": "fail", "label": "异常"}],
        "show_in_list": True,
    },
    {
        "key": "problem",
        "label": "异常说明",
        "type": "textarea",
        "required": True,
        "required_when": 'result == "fail"',
    },
    {"key": "revenue", "label": "月营业额", "type": "money", "min": "0"},
    {"key": "staff", "label": "员工人数", "type": "number"},
    {
        "key": "risks",
        "label": "风险点",
        "type": "multi_choice",
        "options": [{"value": "stock", "label": "存货"}, {"value": "cash", "label": "现金流"}],
    },
    {"key": "operating", "label": "正常经营", "type": "boolean"},
    {
        "key": "items",
        "label": "存货明细",
        "type": "subtable",
        "columns": [
            {"key": "name", "label": "品名", "type": "text", "required": True},
            {"key": "amount", "label": "金额", "type": "money"},
        ],
    },
    {
        "key": "stock_total",
        "label": "存货合计",
        "type": "computed",
        "expression": "sum(map(items, #.amount))",
        "result_type": "money",
    },
    {"key": "photos", "label": "现场照片", "type": "photo", "max_files": 3},
    {
        "key": "risk_note",
        "label": "风控意见",
        "type": "text",
        "view_roles": ["rec_risk"],
        "edit_roles": ["rec_risk"],
    },
]


@pytest.fixture(autouse=True)
def _documents(settings, tmp_path):
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "documents")


@pytest.fixture
def fill_role(db):
    return role_with_perms("rec_am", "own", *FILL_PERMS)


@pytest.fixture
def risk_role(db):
    return role_with_perms("rec_risk", "all", *FILL_PERMS)


@pytest.fixture
def designer_role(db):
    return role_with_perms(
        "rec_admin", "all", *FILL_PERMS, "records.manage_recordtype", "records.view_recordtype"
    )


@pytest.fixture
def am(org, fill_role):
    return UserFactory(
        username="am", display_name="张经理", org_unit=org["team_a"], roles=[fill_role]
    )


@pytest.fixture
def am2(org, fill_role):
    return UserFactory(
        username="am2", display_name="李经理", org_unit=org["team_a"], roles=[fill_role]
    )


@pytest.fixture
def outsider_am(org, fill_role):
    return UserFactory(
        username="am3", display_name="王经理", org_unit=org["team_c"], roles=[fill_role]
    )


@pytest.fixture
def risk(org, risk_role):
    return UserFactory(
        username="risk", display_name="赵风控", org_unit=org["b1"], roles=[risk_role]
    )


@pytest.fixture
def designer(org, designer_role):
    return UserFactory(
        username="designer", display_name="管理员", org_unit=org["head"], roles=[designer_role]
    )


@pytest.fixture
def customer(org, am):
    return Customer.objects.create(
        kind="enterprise",
        name="山西晋阳机械有限公司",
        owner=am,
        team=org["team_a"],
        branch=org["b1"],
        address="太原市小店区长风街1号",
        region_code="140105",
    )


@pytest.fixture
def loan(org, am, customer):
    from credo.lending.models import Loan

    pv = published_product_version("rec-test")
    start = dt.date(2026, 6, 1)
    return Loan.objects.create(
        number="L0001",
        customer=customer,
        product_version=pv,
        principal=Money("100000"),
        annual_rate=Decimal("12"),
        months=12,
        method="equal_principal",
        penalty_multiplier=Decimal("1.5"),
        status="active",
        start_date=start,
        maturity_date=start + dt.timedelta(days=365),
        outstanding_principal=Money("100000"),
        owner=am,
        team=org["team_a"],
        branch=org["b1"],
        created_by=am,
    )


@pytest.fixture
def check_type(designer, risk_role, fill_role):
    rt = services.record_type_create(
        code="post_loan_check",
        name="贷后检查表",
        attached_to="customer",
        fields=FIELDS,
        actor=designer,
    )
    services.record_type_publish(version=rt.versions.get(), actor=designer)
    return rt


GOOD = {
    "visit_date": "2026-06-15",
    "result": "ok",
    "revenue": "120000.50",
    "staff": "12",
    "risks": ["stock"],
    "operating": True,
    "items": [{"name": "钢材", "amount": "1000.10"}, {"name": "配件", "amount": "200"}],
}
