"""Browser: an administrator configures 企业微信 against a local fake server, tests the
connection, syncs the organisation (users appear), and a synced member signs in through the
fake QR/OAuth code flow."""

from __future__ import annotations

import pytest

from credo.accounts.models import OrgUnit
from credo.imapps.models import Identity
from tests.factories import UserFactory
from tests.imapps.fakes import FakePlatform

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake():
    server = FakePlatform().start()
    yield server
    server.stop()


def test_admin_configures_wecom_syncs_and_member_logs_in(page, login, fake):
    head = OrgUnit.objects.create(code="hq", name="总部", kind=OrgUnit.Kind.HEAD_OFFICE)
    admin = UserFactory(username="boss", display_name="管理员", org_unit=head, is_superuser=True)
    login(admin)
    page.goto(f"{page.base_url}/imapps/")
    page.click("#edit-wecom")
    page.check("input[name=enabled]")
    page.fill("input[name=corp_id]", fake.corp_id)
    page.fill("input[name=agent_id]", "1000002")
    page.fill("input[name=secret_new]", fake.secret)
    page.fill("input[name=base_url]", fake.url)
    page.fill("input[name=login_url]", fake.url + "/wwlogin/sso/login")
    page.fill("input[name=public_url]", page.base_url)
    page.select_option("select[name=root_org_unit]", str(head.pk))
    page.click("#imapp-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert "配置已保存" in page.content()

    page.click("#test-wecom")
    page.wait_for_load_state("networkidle")
    assert "连接成功" in page.content()

    page.click("#sync-wecom")
    page.wait_for_load_state("networkidle")
    assert "同步完成" in page.content()
    assert page.locator("#sync-runs tbody tr").count() == 1
    assert Identity.objects.filter(platform="wecom").count() == 2

    # a synced member signs in with 企业微信 (the fake "scans" and redirects back with a code)
    page.context.clear_cookies()
    fake.next_login_userid = "zhangsan"
    page.goto(f"{page.base_url}/accounts/login/")
    page.click("#login-wecom")
    page.wait_for_load_state("networkidle")
    assert page.url.startswith(page.base_url) and "/accounts/login/" not in page.url
    assert "张三" in page.content()
    assert page.console_errors == []
