import datetime as dt

import pytest

from credo.core.validators import id_check_char, uscc_check_char


def make_uscc(n: int) -> str:
    body = f"91140100{n:09d}"
    return body + uscc_check_char(body)


def make_id(n: int, birth: dt.date = dt.date(1985, 6, 15)) -> str:
    body = f"140105{birth:%Y%m%d}{n % 1000:03d}"
    return body + id_check_char(body)


@pytest.fixture
def enterprise_data():
    return {
        "kind": "enterprise",
        "name": "太原晋阳商贸有限公司",
        "uscc": make_uscc(1),
        "registered_capital": "5000000",
        "industry": "F",
        "legal_representative": "王建国",
        "founded_on": "2015-03-20",
        "region_code": "140105",
        "address": "太原市小店区长治路 1 号",
        "phone": "0351-7654321",
    }


@pytest.fixture
def individual_data():
    return {
        "kind": "individual",
        "name": "李小明",
        "id_number": make_id(7),
        "phone": "13835112345",
        "region_code": "140105",
        "bank_account": "6222 0205 1234 5678 901",
    }


@pytest.fixture
def customer_perms(manager_role):
    """Give the standard users (all holding ``manager_role``) the account-manager permissions."""
    from django.contrib.auth.models import Permission

    codes = ["view_customer", "add_customer", "change_customer", "pull_external_data"]
    manager_role.permissions.add(
        *Permission.objects.filter(content_type__app_label="customers", codename__in=codes)
    )
    return manager_role
