from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Permission

from credo.customers import services as customer_services
from tests.factories import RoleFactory, UserFactory

SH = ZoneInfo("Asia/Shanghai")


def at(hour: int, minute: int = 0, day: int = 10) -> dt.datetime:
    """An aware Shanghai time on 2026-03-<day>."""
    return dt.datetime(2026, 3, day, hour, minute, tzinfo=SH)


@pytest.fixture(autouse=True)
def _notify_settings(settings):
    settings.CREDO_NOTIFY_QUIET_HOURS = "22:00-08:00"
    settings.CREDO_NOTIFY_QUIET_TIME_ZONE = "Asia/Shanghai"
    settings.CREDO_NOTIFY_DAILY_CAPS = {"collection": 3, "marketing": 2}
    settings.CREDO_NOTIFY_MAX_ATTEMPTS = 5
    settings.CREDO_NOTIFY_BACKOFF_MINUTES = [1, 5, 25, 125]


@pytest.fixture
def notify_admin(org):
    role = RoleFactory(code="notify_admin_t", name="通知管理员T", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="notify", codename__in=["manage_channels", "view_message"]
        )
    )
    return UserFactory(
        username="notify_admin", display_name="赵管理", org_unit=org["head"], roles=[role]
    )


@pytest.fixture
def borrower(owner, individual_data_factory):
    return customer_services.customer_create(actor=owner, data=individual_data_factory(1))
