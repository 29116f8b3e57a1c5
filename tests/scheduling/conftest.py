from __future__ import annotations

import pytest

from tests.api.conftest import grant
from tests.factories import UserFactory
from tests.scheduling import tasks


@pytest.fixture(autouse=True)
def _reset_calls():
    tasks.CALLS.clear()
    yield
    tasks.CALLS.clear()


@pytest.fixture
def task_viewer(org):
    user = UserFactory(username="taskviewer", display_name="运维", org_unit=org["head"])
    grant(user, "scheduling", "view_tasks")
    return user


@pytest.fixture
def task_admin(org):
    user = UserFactory(username="taskadmin", display_name="运维管理员", org_unit=org["head"])
    grant(user, "scheduling", "view_tasks")
    grant(user, "scheduling", "manage_schedules")
    return user
