"""Browser, issue 21 #2: the approver decides on the task page alone, on a phone (390×844) and
a desktop (1440×900): terms, admission, scorecard, the rules grade (labelled 规则评级), the
related-party exposure, the prior loans with their repayment record, the documents previewed
inline — the licence photo as an image, the PDF in a same-origin frame (no frame refused by
X-Frame-Options/CSP: the console stays clean) — and the earlier opinions before the form."""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest

from credo.approvals import services as approvals
from credo.core.money import Money
from credo.customers.models import Relation
from tests.approvals.conftest import (
    approvers,  # noqa: F401 (fixture)
    grant,
    open_task,
)
from tests.approvals.test_approval_task_decision import (
    TODAY,
    _submit,
    finance_user,  # noqa: F401 (fixture)
    history,  # noqa: F401 (fixture)
)
from tests.e2e.axe import assert_accessible
from tests.origination.conftest import (  # noqa: F401 (fixtures)
    customer,
    document_root,
    make_app,
    make_customer,
    product_version,
    staff_perms,
)

pytestmark = pytest.mark.django_db(transaction=True)

SHOTS = os.environ.get("CREDO_SHOTS", "")  # screenshots only when set
VIEWPORTS = {"phone": (390, 844), "desktop": (1440, 900)}


@pytest.fixture(autouse=True)
def frozen_today(monkeypatch):
    from credo.core import clock

    monkeypatch.setattr(clock, "today", lambda: TODAY)
    return TODAY


def test_approver_decides_without_leaving_the_task(
    page,
    login,
    make_app,  # noqa: F811
    owner,
    customer,  # noqa: F811
    approvers,  # noqa: F811
    history,  # noqa: F811
):
    from credo.lending.exposure.models import NetAssets
    from credo.lending.exposure.selectors import clear_cached

    parent = make_customer(owner, n=2, name="太原控股集团有限公司")
    Relation.objects.create(
        from_customer=parent, to_customer=customer, kind="shareholder", share_pct=Decimal("60")
    )
    NetAssets.objects.create(
        effective_date=dt.date(2026, 1, 1), amount=Money("5000000"), entered_by=owner
    )
    clear_cached()
    from weasyprint import HTML

    statement = HTML(string="<h1>资产负债表 2025</h1><p>资产总计 12,000,000.00 元</p>").write_pdf()
    app = _submit(make_app, owner, pdf=statement)
    first = open_task()
    approvals.approval_act(
        task=first, actor=first.assignee, action="approve", comment="经营稳定，同意"
    )
    task = open_task()
    approver = grant(task.assignee, "origination.view_application", "lending.view_loan")
    login(approver)
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
    url = f"{page.base_url}/approvals/tasks/{task.pk}/"
    for name, (width, height) in VIEWPORTS.items():
        page.set_viewport_size({"width": width, "height": height})
        page.goto(url)
        page.wait_for_load_state("networkidle")
        assert "300,000.00" in page.inner_text("#approval-terms")
        assert_accessible(page, "approval task")
        assert page.locator("#admission-result").is_visible()
        assert page.locator("#application-score").count() == 1
        assert app.rules_grade in page.inner_text("#rules-grade-value")
        assert "规则评级" in page.inner_text("#rules-grade")
        exposure = page.inner_text("#approval-exposure")
        assert "太原控股集团有限公司" in exposure and "股东" in exposure
        assert "420,000.00" in exposure and "占净资产 8.40%" in exposure
        loans = page.inner_text("#approval-prior-loans")
        assert history.number in loans and "逾期还款 1 期" in loans
        # previews: the photo is decoded, the PDF frame loads from this origin
        img = page.locator("#approval-previews img").first
        img.scroll_into_view_if_needed()
        page.wait_until("(el) => el.complete && el.naturalWidth > 0", img.element_handle())
        frame = page.locator("#approval-previews iframe").first
        frame.scroll_into_view_if_needed()
        src = frame.get_attribute("src")
        assert src.endswith("?inline=1")
        response = page.request.get(page.base_url + src)
        assert response.ok and response.headers["content-type"] == "application/pdf"
        assert response.headers["x-frame-options"] == "SAMEORIGIN"
        page.wait_for_timeout(500)  # a refused frame would log a console error
        # the earlier opinion sits above the decision form
        trail = page.locator("#approval-trail").bounding_box()
        actions = page.locator("#approval-actions-card").bounding_box()
        assert trail["y"] < actions["y"]
        assert "经营稳定，同意" in page.inner_text("#approval-trail")
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (name, overflow)
        if SHOTS:
            page.screenshot(path=os.path.join(SHOTS, f"approval-task-{name}.png"), full_page=True)
    # the jump links reach each part of the page
    page.set_viewport_size({"width": 390, "height": 844})
    page.locator("#approval-jump a[href='#approval-exposure']").click()
    assert page.locator("#approval-exposure").is_visible()
    # and the decision is taken on the same page
    page.fill("#approve-comment", "敞口在限额内，同意")
    page.click("#approve-submit")
    page.wait_for_load_state("networkidle")
    assert "已批准" in page.inner_text("body")
    assert page.console_errors == []
