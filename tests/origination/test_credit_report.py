# ruff: noqa: F811 — pytest fixtures imported from tests.lending.conftest
"""Credit report (信用报告): sections with/without authorization, liabilities, related-party
exposure, the rules-based score and grade bands, page + PDF (scoped, audited)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.utils import timezone

from credo.core.audit.models import AuditEntry
from credo.customers import services as customer_services
from credo.customers.models import ExternalPull
from credo.lending import services as lending_services
from credo.lending.models import Loan
from credo.origination.credit_report import (
    DECISION_KEY,
    build_report,
    grade_for,
    risk_grade,
)
from tests.contracts.conftest import pdf_fonts
from tests.factories import UserFactory
from tests.lending.conftest import (  # noqa: F401
    VALUE_DATE,
    borrower,
    finance,
    make_loan,
    product_version,
)

pytestmark = pytest.mark.django_db


def _authorize(customer, actor):
    today = timezone.localdate()
    return customer_services.authorization_record(
        customer=customer,
        actor=actor,
        scope="bureau",
        granted_by="法定代表人",
        valid_from=today - dt.timedelta(days=1),
        valid_until=today + dt.timedelta(days=90),
    )


@pytest.fixture
def viewer_perms(manager_role):
    manager_role.permissions.add(
        *Permission.objects.filter(content_type__app_label="customers", codename="view_customer")
    )


@pytest.fixture
def loan(make_loan, finance):  # noqa: F811
    return lending_services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        (1000, "A"),
        (800, "A"),
        (799, "B"),
        (700, "B"),
        (699, "C"),
        (600, "C"),
        (599, "D"),
        (500, "D"),
        (499, "E"),
        (0, "E"),
    ],
)
def test_grade_bands(score, grade):
    assert grade_for(score) == grade


def test_shipped_decision_passes_its_tests(db):
    from credo.rules.services import published_version, run_tests

    results = run_tests(published_version(DECISION_KEY))
    assert results and all(r.passed for r in results), [r.mismatches for r in results]


def test_without_authorization_nothing_pulled(owner, borrower):  # noqa: F811
    report = build_report(borrower, actor=owner)
    assert report.bureau["status"] == "no_authorization"
    assert ExternalPull.objects.count() == 0
    assert report.internal["loan_count"] == 0
    assert [d["reason"] for d in report.deductions] == ["无征信报告（未授权或查询失败）"]
    assert (report.score, report.grade) == (950, "A")
    assert report.evaluation_id is not None
    assert risk_grade(borrower) == (950, "A")


def test_with_authorization_pulls_once_and_reuses(owner, borrower):  # noqa: F811
    _authorize(borrower, owner)
    report = build_report(borrower, actor=owner)
    assert report.bureau["status"] == "ok"
    assert "score" in report.bureau["data"]
    assert ExternalPull.objects.filter(kind="bureau").count() == 1
    build_report(borrower, actor=owner)
    assert ExternalPull.objects.filter(kind="bureau").count() == 1
    # risk_grade never queries and matches the full report
    assert risk_grade(borrower) == (report.score, report.grade)


def test_liabilities_overdue_and_related_party(owner, borrower, loan, individual_data_factory):  # noqa: F811
    Loan.objects.filter(pk=loan.pk).update(dpd=45, classification="substandard", status="overdue")
    guarantor = customer_services.customer_create(actor=owner, data=individual_data_factory(7))
    customer_services.relation_add(
        from_customer=guarantor, to_customer=borrower, kind="guarantor", actor=owner
    )
    customer_services.risk_flag_set(
        customer=guarantor, flag="judgment_debtor", on=True, actor=owner
    )
    report = build_report(borrower, actor=owner, requested_amount_fen=5_000_000)
    assert report.internal["loan_count"] == 1
    assert report.internal["outstanding"] == 12_000_000
    assert report.internal["max_dpd"] == 45
    assert report.internal["loans"][0]["number"] == loan.number
    assert report.exposure["own"] == 12_000_000
    [party] = report.exposure["related"]
    assert party["name"] == guarantor.name and party["flags"] == ["被执行人"]
    reasons = {d["reason"] for d in report.deductions}
    assert {"历史最大逾期 31–90 天", "存在不良贷款（次级及以下）", "关联方存在风险标记"} <= reasons
    # 1000 - 150 - 200 - 60 - 50 (no bureau) = 540
    assert (report.score, report.grade) == (540, "D")
    assert report.ratios["requested_amount"] == 5_000_000


def test_page_and_pdf_scoped_and_audited(
    client: Client,
    owner,
    outsider,
    borrower,
    loan,
    viewer_perms,
    org,  # noqa: F811
):
    client.force_login(owner)
    resp = client.get(f"/origination/credit-report/{borrower.pk}/")
    assert resp.status_code == 200
    html = resp.content.decode()
    assert loan.number in html and "未取得客户有效的征信查询授权" in html
    assert 'id="cr-grade">A<' in html
    assert AuditEntry.objects.filter(action="credit_report.view").count() == 1
    pdf = client.get(f"/origination/credit-report/{borrower.pk}/pdf/")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert b"Noto-Sans-CJK-SC" in pdf_fonts(pdf.content)
    assert AuditEntry.objects.filter(action="credit_report.pdf").count() == 1
    client.force_login(outsider)
    assert client.get(f"/origination/credit-report/{borrower.pk}/").status_code == 404
    client.force_login(UserFactory(username="noview", org_unit=org["team_a"]))
    assert client.get(f"/origination/credit-report/{borrower.pk}/").status_code == 403
