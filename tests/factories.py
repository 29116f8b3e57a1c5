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
