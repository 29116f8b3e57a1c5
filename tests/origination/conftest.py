import datetime as dt
import io
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission

from credo.core.money import Money
from credo.customers import services as customer_services
from credo.lending.models import Product, ProductVersion
from credo.origination import services
from tests.factories import RoleFactory, UserFactory

ITEMS = ["营业执照", "财务报表"]


def _perms(app_label, *codenames):
    return Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)


STAFF = (
    "view_application",
    "add_application",
    "change_application",
    "submit_application",
    "manage_portal_links",
)


@pytest.fixture(autouse=True)
def document_root(settings, tmp_path):
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "documents")
    return tmp_path / "documents"


@pytest.fixture
def staff_perms(manager_role):
    manager_role.permissions.add(*_perms("origination", *STAFF))
    manager_role.permissions.add(*_perms("customers", "view_customer", "add_customer"))
    manager_role.permissions.add(*_perms("lending", "view_loan", "view_product"))
    return manager_role


@pytest.fixture
def reviewer(org):
    role = RoleFactory(code="risk_analyst_t", name="风控T", data_scope="all")
    role.permissions.add(*_perms("origination", "view_application", "review_documents"))
    return UserFactory(
        username="reviewer", display_name="赵风控", org_unit=org["head"], roles=[role]
    )


@pytest.fixture
def product_version(db):
    product = Product.objects.create(code="jy-loan", name="经营贷")
    return ProductVersion.objects.create(
        product=product,
        number=1,
        status="published",
        min_amount=Money("10000"),
        max_amount=Money("5000000"),
        min_months=3,
        max_months=60,
        min_rate=Decimal("4"),
        max_rate=Decimal("18"),
        method="equal_installment",
        penalty_multiplier=Decimal("1.5"),
        allocation_order=["penalty", "fee", "interest", "principal"],
        required_documents=ITEMS,
    )


def make_customer(owner, n=1, **extra):
    from credo.core.validators import uscc_check_char

    body = f"91140100MA000{n:04d}"
    data = {
        "kind": "enterprise",
        "name": f"太原申请企业{n}有限公司",
        "uscc": body + uscc_check_char(body),
        "region_code": "140105",
        "registered_capital": "5000000",
        "industry": "F",
        "founded_on": dt.date(2015, 3, 1),
        **extra,
    }
    return customer_services.customer_create(actor=owner, data=data)


@pytest.fixture
def customer(owner, staff_perms):
    return make_customer(owner)


@pytest.fixture
def make_app(owner, customer, product_version, staff_perms):
    def make(amount="300000", months=12, rate="12", cust=None, **kw):
        return services.application_create(
            customer=cust or customer,
            product_version=product_version,
            amount=Money(amount),
            months=months,
            annual_rate=Decimal(rate),
            purpose="采购原材料",
            actor=owner,
            **kw,
        )

    return make


def png_bytes(size=(4, 4)):
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (200, 10, 10)).save(buf, format="PNG")
    return buf.getvalue()


def xlsx_bytes():
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = "资产负债表"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def complete(owner):
    """Upload every checklist item of an application."""

    def upload_all(app):
        services.document_upload(
            application=app, item="营业执照", name="licence.png", data=png_bytes(), actor=owner
        )
        services.document_upload(
            application=app, item="财务报表", name="fs.xlsx", data=xlsx_bytes(), actor=owner
        )
        return app

    return upload_all


@pytest.fixture
def approvers(org):
    lead_role = RoleFactory(code="team_lead", name="团队主管", data_scope="branch")
    risk_role = RoleFactory(code="risk_manager", name="风控经理", data_scope="all")
    lead = UserFactory(
        username="lead", display_name="钱主管", org_unit=org["team_b"], roles=[lead_role]
    )
    risk = UserFactory(
        username="risk", display_name="孙风控", org_unit=org["head"], roles=[risk_role]
    )
    return lead, risk
