"""Browser: the close of business with a failing after-close job — the run is done, the runs
page flags the failed job, the run page shows its error, and 重试 completes it."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission

from credo.lending import eod, services
from credo.lending.eod.common import after_close_jobs
from tests.e2e.test_eod import eod_urls  # noqa: F401  (fixture)
from tests.factories import RoleFactory, UserFactory
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    VALUE_DATE,
    borrower,
    finance,
    make_loan,
    product_version,
)


@pytest.fixture
def flaky_job():
    """Only a test job registered: it fails until told otherwise."""
    saved = after_close_jobs.items()
    after_close_jobs.clear()
    state = {"fail": True}

    def reminders(run):
        if state["fail"]:
            raise RuntimeError("短信网关超时")
        return {"sent": 3}

    eod.register_after_close_job(
        "e2e.reminders", reminders, label="还款提醒（测试）", result_labels={"sent": "已发送提醒"}
    )
    yield state
    after_close_jobs.clear()
    for key, item in saved:
        after_close_jobs.register(key, item)


@pytest.mark.django_db(transaction=True)
def test_failed_job_is_shown_and_retried_from_the_run_page(
    page,
    login,
    eod_urls,  # noqa: F811
    org,
    make_loan,  # noqa: F811
    finance,  # noqa: F811
    flaky_job,
):
    services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    role = RoleFactory(code="eod_jobs_e2e", name="日终", data_scope="all")
    role.permissions.add(
        Permission.objects.get(content_type__app_label="lending", codename="run_eod")
    )
    user = UserFactory(username="eod-jobs-e2e", org_unit=org["head"], roles=[role])
    login(user)
    page.goto(f"{page.base_url}/lending/eod/")
    page.fill("input[name=business_date]", dt.date(2026, 2, 20).isoformat())
    page.get_by_role("button", name="运行日终").click()
    page.wait_for_load_state("networkidle")
    # the close itself is done; its after-close job failed on its own
    assert page.locator("[data-testid=eod-status]").inner_text().strip() == "已完成"
    job = page.locator("[data-testid=eod-job][data-job='e2e.reminders']")
    assert "还款提醒（测试）" in job.inner_text()
    assert job.locator("[data-testid=eod-job-status]").inner_text().strip() == "失败"
    assert "短信网关超时" in job.locator("[data-testid=eod-job-error]").inner_text()

    page.goto(f"{page.base_url}/lending/eod/")
    assert "1 个失败" in page.locator("[data-testid=eod-run-jobs]").first.inner_text()
    page.locator("table").get_by_text("2026-02-20").click()
    page.wait_for_load_state("networkidle")

    flaky_job["fail"] = False
    page.locator("[data-testid=eod-job-retry]").click()
    page.wait_for_load_state("networkidle")
    job = page.locator("[data-testid=eod-job][data-job='e2e.reminders']")
    assert job.locator("[data-testid=eod-job-status]").inner_text().strip() == "已完成"
    assert "已发送提醒 3" in job.inner_text()
    assert page.locator("[data-testid=eod-job-retry]").count() == 0
    assert "重试成功" in page.content()
    assert page.console_errors == []
