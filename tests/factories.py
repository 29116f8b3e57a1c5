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
