from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from credo.accounts.models import DataScope, Role
from credo.imapps import services
from credo.imapps.models import Platform
from tests.approvals.conftest import approvers, context, start, subject  # noqa: F401
from tests.factories import UserFactory
from tests.imapps.fakes import FakePlatform


@pytest.fixture
def fake():
    server = FakePlatform().start()
    yield server
    server.stop()


@pytest.fixture
def admin(org):
    role = Role.objects.create(code="it_admin", name="集成管理员", data_scope=DataScope.ALL)
    role.permissions.add(
        Permission.objects.get(content_type__app_label="imapps", codename="manage_imapps")
    )
    return UserFactory(
        username="itadmin", display_name="管理员", org_unit=org["head"], roles=[role]
    )


@pytest.fixture
def risk_role(db):
    return Role.objects.get_or_create(
        code="risk_analyst", defaults={"name": "风控专员", "data_scope": DataScope.BRANCH}
    )[0]


@pytest.fixture
def am_role(db):
    return Role.objects.get_or_create(
        code="account_manager", defaults={"name": "客户经理", "data_scope": DataScope.OWN}
    )[0]


def _configure(platform, fake, org, admin, **extra):
    app = services.app_get(platform)
    app.enabled = True
    app.corp_id = fake.corp_id if platform == Platform.WECOM else ""
    app.app_key = fake.app_key if platform == Platform.DINGTALK else ""
    app.agent_id = "1000002"
    app.base_url = fake.url
    app.api_base_url = fake.url if platform == Platform.DINGTALK else ""
    app.login_url = fake.url + (
        "/wwlogin/sso/login" if platform == Platform.WECOM else "/oauth2/auth"
    )
    app.public_url = "http://credo.test"
    app.timeout_seconds = 2
    app.root_org_unit = org["head"]
    app.role_rules = [
        {"kind": "dept", "value": "风控部", "role": "risk_analyst"},
        {"kind": "title", "value": "客户经理", "role": "account_manager"},
    ]
    for k, v in extra.items():
        setattr(app, k, v)
    return services.app_save(app=app, secrets={"secret": fake.secret}, actor=admin)


@pytest.fixture
def wecom(fake, org, admin, risk_role, am_role):
    return _configure(Platform.WECOM, fake, org, admin)


@pytest.fixture
def dingtalk(fake, org, admin, risk_role, am_role):
    return _configure(Platform.DINGTALK, fake, org, admin)
