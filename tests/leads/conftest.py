import pytest
from django.contrib.auth.models import Permission

from credo.accounts.models import DataScope
from tests.factories import RoleFactory, UserFactory


def perms(*codenames, app="leads"):
    return Permission.objects.filter(content_type__app_label=app, codename__in=codenames)


@pytest.fixture
def lead_perms(manager_role):
    manager_role.permissions.add(
        *perms("view_lead", "add_lead", "change_lead", "convert_lead"),
        *perms("view_customer", "add_customer", app="customers"),
    )
    return manager_role


@pytest.fixture
def team_lead(org):
    role = RoleFactory(code="test_team_lead", name="测试团队主管", data_scope=DataScope.TEAM)
    role.permissions.add(
        *perms(
            "view_lead", "add_lead", "change_lead", "convert_lead", "assign_lead", "import_leads"
        ),
        *perms("view_customer", "add_customer", app="customers"),
    )
    return UserFactory(username="tl", display_name="赵主管", org_unit=org["team_a"], roles=[role])


@pytest.fixture
def admin_user(org):
    role = RoleFactory(code="test_admin", name="测试管理员", data_scope=DataScope.ALL)
    role.permissions.add(
        *perms(
            "view_lead",
            "add_lead",
            "change_lead",
            "convert_lead",
            "assign_lead",
            "import_leads",
            "reassign_book",
        ),
        *perms("view_customer", "add_customer", "change_customer", app="customers"),
    )
    return UserFactory(username="boss", display_name="管理员", org_unit=org["head"], roles=[role])


@pytest.fixture
def lead_data():
    def make(n=1, **kw):
        data = {
            "name": f"太原线索{n}",
            "contact_name": "王先生",
            "phone": f"1380000{n:04d}",
            "source": "online",
            "campaign": "春季推广",
            "region_code": "140105",
            "business_type": "operating",
            "requested_amount": "300000",
        }
        data.update(kw)
        return data

    return make
