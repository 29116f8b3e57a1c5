"""factory_boy factories shared by all tests."""

from __future__ import annotations

import factory
from django.contrib.auth.hashers import make_password

from credo.accounts.models import DataScope, OrgUnit, Role, User

PASSWORD = "Credo-Test-Pass-123"


class OrgUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrgUnit
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"unit-{n}")
    name = factory.Sequence(lambda n: f"机构{n}")
    kind = OrgUnit.Kind.TEAM


class RoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Role
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"role-{n}")
    name = factory.Sequence(lambda n: f"角色{n}")
    data_scope = DataScope.OWN


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    display_name = factory.Sequence(lambda n: f"用户{n}")
    password = factory.LazyFunction(lambda: make_password(PASSWORD))

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.roles.set(extracted)


def role_with_perms(code: str, scope: str, *perms: str) -> Role:
    """A role holding the given ``app_label.codename`` permissions."""
    from django.contrib.auth.models import Permission
    from django.db.models import Q

    role = RoleFactory(code=code, name=code, data_scope=scope)
    q = Q()
    for perm in perms:
        app_label, codename = perm.split(".")
        q |= Q(content_type__app_label=app_label, codename=codename)
    role.permissions.add(*Permission.objects.filter(q))
    return role


def perms(*names: str) -> list:
    """The ``Permission`` rows for ``app_label.codename`` names (for ``role.permissions.add``)."""
    from django.contrib.auth.models import Permission

    out = []
    for full in names:
        app_label, codename = full.split(".")
        out.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
    return out


def published_product_version(code: str, name: str = "经营贷", **terms):
    """Version 1 of a new published equal-principal product (1,000–5,000,000 yuan, 1–60 months,
    4–18 % a year) with the usual allocation order; ``terms`` override any field."""
    from decimal import Decimal

    from credo.core.money import Money
    from credo.lending.models import Product, ProductVersion

    fields = {
        "number": 1,
        "status": "published",
        "min_amount": Money("1000"),
        "max_amount": Money("5000000"),
        "min_months": 1,
        "max_months": 60,
        "min_rate": Decimal("4"),
        "max_rate": Decimal("18"),
        "method": "equal_principal",
        "allocation_order": ["penalty", "fee", "interest", "principal"],
    }
    fields.update(terms)
    return ProductVersion.objects.create(
        product=Product.objects.create(code=code, name=name), **fields
    )


def overdue_loan(org, owner, today, *, customer_name: str, number: str, product_code: str):
    """An enterprise customer's two-period loan, 100,000 yuan, 33 days overdue on period 1 (the
    close of business has marked it ``overdue``), period 2 due in 28 days."""
    import datetime as dt
    from decimal import Decimal

    from credo.core.money import Money
    from credo.customers.models import Customer
    from credo.lending.models import Installment, Loan

    customer = Customer.objects.create(
        kind="enterprise", name=customer_name, owner=owner, team=org["team_a"], branch=org["b1"]
    )
    due = today - dt.timedelta(days=33)
    loan = Loan.objects.create(
        number=number,
        customer=customer,
        product_version=published_product_version(product_code),
        principal=Money("100000"),
        annual_rate=Decimal("12"),
        months=2,
        method="equal_principal",
        penalty_multiplier=Decimal("1.5"),
        status="overdue",
        dpd=33,
        start_date=due - dt.timedelta(days=30),
        maturity_date=today + dt.timedelta(days=28),
        outstanding_principal=Money("100000"),
        owner=owner,
        team=org["team_a"],
        branch=org["b1"],
        created_by=owner,
    )
    for period, day in ((1, due), (2, today + dt.timedelta(days=28))):
        Installment.objects.create(
            loan=loan,
            period=period,
            due_date=day,
            principal_due=Money("50000"),
            interest_due=Money("500"),
            status="overdue" if day < today else "scheduled",
        )
    return loan


def png_bytes(size: tuple[int, int] = (8, 8), color: tuple[int, int, int] = (10, 120, 10)) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format="PNG")
    return buf.getvalue()


def xlsx_bytes(text: str = "利润表") -> bytes:
    import io

    import openpyxl

    wb = openpyxl.Workbook()
    wb.active["A1"] = text
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
