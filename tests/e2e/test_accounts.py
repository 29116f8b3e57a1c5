"""Browser: an administrator creates a user through the form and finds it in the list."""

from __future__ import annotations

import pytest

from credo.accounts.models import User
from credo.accounts.roles import ensure_default_roles
from tests.factories import OrgUnitFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_admin_creates_user_through_form(page, login):
    roles = {r.code: r for r in ensure_default_roles()}
    team = OrgUnitFactory(code="e2e-team", name="测试一组")
    admin = UserFactory(username="e2e-admin", display_name="管理员", roles=[roles["admin"]])

    # The shell has no favicon yet; its 404 would show up as a console error.
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    login(admin)
    page.locator("aside a.nav-link", has_text="用户").first.click()
    page.wait_for_url("**/accounts/users/")
    assert page.locator("table").get_by_text("e2e-admin").is_visible()
    page.get_by_role("link", name="新建用户").first.click()
    page.wait_for_url("**/accounts/users/new/")
    page.fill("input[name=username]", "e2e-newbie")
    page.fill("input[name=display_name]", "新员工小王")
    page.select_option("select[name=org_unit]", str(team.pk))
    page.get_by_label("客户经理", exact=True).check()
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/accounts/users/")

    assert page.locator("table").get_by_text("新员工小王").is_visible()
    assert page.get_by_text("初始密码").is_visible()
    user = User.objects.get(username="e2e-newbie")
    assert user.role_codes == {"account_manager"}
    assert user.org_unit == team
    assert page.console_errors == []
