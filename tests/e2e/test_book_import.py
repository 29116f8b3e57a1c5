"""Browser: an admin uploads an existing loan book, previews it, confirms, reads the
reconciliation (上传存量贷款 → 预览 → 确认导入 → 对账)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from credo.lending.models import BookImport, Loan
from tests.factories import RoleFactory, UserFactory
from tests.lending.test_book_import import AS_OF, workbook

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_book_upload_preview_confirm_reconciliation(page, login, org):
    role = RoleFactory(code="book_e2e", name="迁移管理员", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="lending", codename__in=["import_book", "view_loan"]
        )
    )
    user = UserFactory(
        username="book_e2e", display_name="迁移员", org_unit=org["head"], roles=[role]
    )
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204, body=""))
    login(user)
    page.goto(f"{page.base_url}/lending/book/")
    page.set_input_files(
        "#book-upload input[type=file]",
        files=[
            {
                "name": "存量贷款.xlsx",
                "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "buffer": workbook(),
            }
        ],
    )
    page.fill("#book-upload input[name=as_of]", AS_OF.isoformat())
    page.click("#book-preview")
    page.wait_for_selector("#book-status[data-status=preview]")
    assert page.inner_text("#count-loans_new") == "3"
    assert page.inner_text("#count-customers_created") == "2"
    assert "MIG-2" in page.inner_text("#book-per-loan")
    assert not Loan.objects.exists()  # a preview writes nothing

    page.click("#book-confirm")
    page.wait_for_selector("#book-record")
    record = BookImport.objects.get()
    assert page.url.endswith(f"/lending/book/{record.pk}/")
    assert Loan.objects.count() == 3
    assert (
        page.inner_text("#recon-outstanding_principal")
        == (record.reconciliation["outstanding_principal"])
    )
    assert page.inner_text("#recon-overdue_loans") == "1"
    assert "MIG-1" in page.inner_text("#book-per-loan")
    assert page.console_errors == []
