"""Issue 21 #2: the approval task is decision-ready — terms, 年化利率, admission with reasons,
the scorecard and the credit report's rules grade (labelled 规则评级), the related-party
exposure, the prior loans with their repayment record, the collateral, the documents previewed
inline (images as <img>, PDFs in a same-origin <iframe> through the audited download view) and
the previous steps' opinions — without leaving the task. The view is audited."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from credo.approvals import services as approvals
from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.customers.models import Relation
from credo.lending import services as lending
from credo.lending.models import Installment
from credo.origination import services
from tests.approvals.conftest import grant, open_task
from tests.lending.conftest import book_on
from tests.origination.conftest import (  # noqa: F401 (fixtures)
    PDF,
    customer,
    document_root,
    make_app,
    make_customer,
    png_bytes,
    product_version,
    staff_perms,
)

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 4, 20)


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    from credo.core import clock

    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


@pytest.fixture
def finance_user(org):
    from tests.factories import RoleFactory, UserFactory

    role = RoleFactory(code="finance_d", name="财务D", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="lending",
            codename__in=["disburse_loan", "post_repayment", "backdate_disbursement"],
        )
    )
    return UserFactory(username="fin_d", display_name="财务", org_unit=org["head"], roles=[role])


@pytest.fixture
def history(customer, product_version, owner, finance_user):  # noqa: F811
    """A prior loan of the applicant disbursed 2026-01-15: installment 1 paid 5 days late,
    2 on time, 3 (due 2026-04-15) unpaid."""
    loan = lending.loan_create(
        customer=customer,
        product_version=product_version,
        principal=Money("120000"),
        annual_rate=Decimal("12"),
        months=12,
        actor=owner,
    )
    book_on(loan, dt.date(2026, 1, 10))
    loan = lending.loan_disburse(loan=loan, actor=finance_user, value_date=dt.date(2026, 1, 15))
    inst = list(loan.installments.order_by("period"))
    Installment.objects.filter(pk=inst[0].pk).update(
        status="paid", paid_on=inst[0].due_date + dt.timedelta(days=5)
    )
    Installment.objects.filter(pk=inst[1].pk).update(status="paid", paid_on=inst[1].due_date)
    Installment.objects.filter(pk=inst[2].pk).update(status="overdue")
    return loan


@pytest.fixture
def related(customer, owner):  # noqa: F811
    """A shareholder with 60 %: the applicant's related-party group."""
    parent = make_customer(owner, n=2, name="太原控股集团有限公司")
    Relation.objects.create(
        from_customer=parent, to_customer=customer, kind="shareholder", share_pct=Decimal("60")
    )
    return parent


def _submit(make_app, owner, pdf=PDF):  # noqa: F811
    app = make_app()
    services.document_upload(
        application=app, item="营业执照", name="licence.png", data=png_bytes(), actor=owner
    )
    services.document_upload(application=app, item="财务报表", name="fs.pdf", data=pdf, actor=owner)
    return services.application_submit(application=app, actor=owner)


def test_task_page_is_decision_ready(client, make_app, owner, approvers, history, related):  # noqa: F811
    from credo.lending.exposure.models import NetAssets
    from credo.lending.exposure.selectors import clear_cached

    NetAssets.objects.create(
        effective_date=dt.date(2026, 1, 1), amount=Money("5000000"), entered_by=owner
    )
    clear_cached()
    app = _submit(make_app, owner)
    task = open_task()
    approver = grant(task.assignee, "origination.view_application", "lending.view_loan")
    client.force_login(approver)
    page = client.get(reverse("approvals:task_detail", args=[task.pk])).content.decode()

    # terms, admission with reasons, scorecard block, the rules grade labelled as such
    assert 'id="approval-terms-amount">300,000.00 元' in page
    assert 'id="admission-result"' in page and 'id="admission-reasons"' in page
    assert 'id="application-score"' in page
    assert ">规则评级<" in page and f'id="rules-grade-value">{app.rules_grade}' in page

    # related-party exposure: the applicant (loan 120,000 outstanding + this 300,000) and the
    # shareholder, with the share of net assets and the headroom after the decision
    members = re.findall(r'data-member="(\d+)"', page)
    assert members == [str(app.customer_id), str(related.pk)]
    assert "太原控股集团有限公司" in page and "股东" in page
    assert 'id="exposure-single">420,000.00 元' in page
    assert "占净资产 8.40%" in page  # 420,000 / 5,000,000
    # single limit 10 % = 500,000: 80,000 left
    assert re.search(r'id="exposure-single-headroom">余量 80,000.00 元', page)

    # prior loans with their repayment record
    assert f'data-loan="{history.pk}"' in page
    record = re.search(rf'data-loan="{history.pk}">.*?repayment-record">(.*?)</td>', page, re.S)
    text = re.sub(r"<[^>]+>", "", record.group(1))
    assert "已到期 3 期，按时 1 期" in text and "逾期还款 1 期" in text and "未还 1 期" in text
    assert "逾期还款 1 期，未还逾期 1 期" in page  # the summary line

    # documents previewed inline through the download view
    png = app.documents.get(item="营业执照")
    pdf = app.documents.get(item="财务报表")
    png_url = reverse("origination:download", args=[png.pk]) + "?inline=1"
    pdf_url = reverse("origination:download", args=[pdf.pk]) + "?inline=1"
    assert re.search(rf'<img [^>]*src="{re.escape(png_url)}"', page)
    assert re.search(rf'<iframe [^>]*src="{re.escape(pdf_url)}"', page)
    resp = client.get(pdf_url)
    assert resp.status_code == 200 and resp["Content-Type"] == "application/pdf"
    assert resp["Content-Disposition"].startswith("inline")
    assert resp["X-Frame-Options"] == "SAMEORIGIN"
    assert "frame-ancestors 'self'" in resp["Content-Security-Policy"]
    assert AuditEntry.objects.filter(
        action="document.download", actor_id=approver.pk, object_id=str(pdf.pk)
    ).exists()
    # a plain download stays a download, framed nowhere
    resp = client.get(reverse("origination:download", args=[pdf.pk]))
    assert resp["Content-Disposition"].startswith("attachment")
    assert resp.get("X-Frame-Options") == "DENY"

    # the view itself is audited with what it showed
    entry = AuditEntry.objects.filter(action="approval.subject_view", actor_id=approver.pk).get()
    assert entry.metadata["prior_loans"] == [history.pk]
    assert sorted(entry.metadata["group"]) == sorted([app.customer_id, related.pk])

    # the task's deadline as a countdown
    assert re.search(r'id="approval-sla"><span class="badge bg-\w+-lt">处理时限：剩余 ', page)

    # the earlier opinions come before the decision form
    assert page.index('id="approval-trail"') < page.index('id="approval-actions-card"')


def test_next_step_reads_the_opinion_and_the_same_facts(client, make_app, owner, approvers):  # noqa: F811
    _submit(make_app, owner)
    first = open_task()
    approvals.approval_act(task=first, actor=first.assignee, action="approve", comment="经营稳定")
    second = open_task()
    view_loan = Permission.objects.get(content_type__app_label="lending", codename="view_loan")
    for role in second.assignee.roles.all():
        role.permissions.remove(view_loan)
    client.force_login(grant(second.assignee, "origination.view_application"))
    page = client.get(reverse("approvals:task_detail", args=[second.pk])).content.decode()
    assert "经营稳定" in page
    assert 'id="approval-exposure"' in page
    assert 'id="exposure-skipped"' in page  # no net assets entered: said, not hidden
    # without lending.view_loan no loan history is shown (and none is audited as read)
    assert 'id="approval-prior-loans"' not in page


def test_first_loan_says_so(client, make_app, owner, approvers):  # noqa: F811
    _submit(make_app, owner)
    task = open_task()
    client.force_login(grant(task.assignee, "origination.view_application", "lending.view_loan"))
    page = client.get(reverse("approvals:task_detail", args=[task.pk])).content.decode()
    assert "该客户没有历史贷款（首次借款）。" in page
    assert "未登记关联方，按单一借款人计算。" in page


def test_outsider_sees_no_subject(client, make_app, owner, approvers, outsider):  # noqa: F811
    _submit(make_app, owner)
    task = open_task()
    client.force_login(outsider)
    resp = client.get(reverse("approvals:task_detail", args=[task.pk]))
    assert resp.status_code in (403, 404)
    assert not AuditEntry.objects.filter(action="approval.subject_view").exists()


def test_preview_kinds():
    from credo.origination.approval_decision import preview_kind

    assert preview_kind("image/png") == "image"
    assert preview_kind("image/jpeg") == "image"
    assert preview_kind("image/svg+xml") == ""  # could carry script: download only
    assert preview_kind("application/pdf") == "pdf"
    assert preview_kind("application/vnd.ms-excel") == ""
