"""Browser: an administrator defines a custom field; a manager imports customers from CSV with
a bad row, sees the row error in the preview and imports the valid rows."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from credo.customers.models import Customer
from tests.customers.conftest import make_id, make_uscc
from tests.factories import OrgUnitFactory, RoleFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def admin_user():
    role = RoleFactory(code="e2e_admin", name="管理员E2E")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["customers", "customfields"],
        )
    )
    team = OrgUnitFactory(code="e2e-admin-team", name="太原二组")
    return UserFactory(username="e2e_admin", display_name="管理员", org_unit=team, roles=[role])


def test_define_custom_field_then_import(page, login, admin_user, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    login(admin_user)
    page.goto(f"{page.base_url}/system/fields/new/?entity=customer")
    page.fill("input[name=key]", "grade_source")
    page.fill("input[name=label]", "客户来源")
    page.select_option("select[name=field_type]", "choice")
    page.fill("textarea[name=options_text]", "ref=转介绍\nweb=线上推广")
    page.check("input[name=filterable]")
    page.check("input[name=show_in_list]")
    page.click("form.card button[type=submit]")
    page.wait_for_url("**/system/fields/")
    assert "客户来源" in page.inner_text("table")

    bad_id = make_id(5)
    bad_id = bad_id[:-1] + ("1" if bad_id[-1] != "1" else "2")
    csv_text = "\n".join(
        [
            "客户类型,名称/姓名,统一社会信用代码,身份证号,手机号,所在地区,客户来源",
            f"企业,阳泉导入测试有限公司,{make_uscc(9)},,0353-1234567,140302,转介绍",
            f"个人,导入错误,,{bad_id},13912345678,140105,线上推广",
        ]
    )
    path = tmp_path / "customers.csv"
    path.write_text(csv_text, encoding="utf-8-sig")
    page.goto(f"{page.base_url}/customers/import/")
    page.set_input_files("#import-file", str(path))
    page.click("#import-form button[type=submit]")
    page.wait_for_url("**/import/preview/")
    assert page.inner_text("#valid-rows") == "1"
    assert "校验位" in page.inner_text("#import-errors")
    page.check("input[value=valid_only]")
    page.click("form[action$='/import/confirm/'] button[type=submit]")
    page.wait_for_url("**/customers/")
    assert "阳泉导入测试有限公司" in page.inner_text("table")
    assert Customer.objects.get().custom == {"grade_source": "ref"}
    page.select_option("select[name=cf_grade_source]", "ref")
    page.click("#customer-filters button[type=submit]")
    assert "阳泉导入测试有限公司" in page.inner_text("table")
    assert page.console_errors == []
