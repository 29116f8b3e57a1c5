"""Browser: a risk manager trains a scorecard from an uploaded CSV, reviews the model card and
publishes it; an account manager then submits an application, whose page shows the score, the
grade and the reasons that cost the most points."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.utils import timezone

from credo.core.money import Money
from credo.customers import services as customer_services
from credo.lending.models import Product, ProductVersion
from credo.origination import services
from credo.scorecard.models import ApplicationScore, Scorecard
from credo.scorecard.selectors import reason_text
from tests.factories import UserFactory
from tests.factories import png_bytes as _png
from tests.factories import role_with_perms as _role
from tests.factories import xlsx_bytes as _xlsx
from tests.scorecard.data import make_csv

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def history_csv(n: int = 3000, seed: int = 11) -> bytes:
    return make_csv(n, seed)


@pytest.fixture
def world(org, settings, tmp_path):
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "docs")
    am = _role(
        "account_manager_e2e",
        "own",
        "origination.view_application",
        "origination.add_application",
        "origination.change_application",
        "origination.submit_application",
        "customers.view_customer",
        "approvals.view_approvalinstance",
    )
    owner = UserFactory(username="am1", display_name="张经理", org_unit=org["team_a"], roles=[am])
    viewer = ("origination.view_application", "approvals.view_approvalinstance")
    UserFactory(
        username="tl1",
        display_name="钱主管",
        org_unit=org["team_b"],
        roles=[_role("team_lead", "branch", *viewer)],
    )
    risk = UserFactory(
        username="rm1",
        display_name="孙风控",
        org_unit=org["head"],
        roles=[
            _role(
                "risk_manager",
                "all",
                *viewer,
                "scorecard.view_scorecard",
                "scorecard.train_scorecard",
                "scorecard.publish_scorecard",
            )
        ],
    )
    product = Product.objects.create(code="jyd", name="经营贷")
    pv = ProductVersion.objects.create(
        product=product,
        number=1,
        status="published",
        min_amount=Money("10000"),
        max_amount=Money("3000000"),
        min_months=3,
        max_months=36,
        min_rate=Decimal("4"),
        max_rate=Decimal("18"),
        method="equal_installment",
        allocation_order=["penalty", "fee", "interest", "principal"],
        required_documents=["营业执照", "财务报表"],
    )
    from credo.core.validators import uscc_check_char

    body = "91140100MA0000888"
    # a young construction firm with little capital asking for an unsecured loan: loses points
    customer = customer_services.customer_create(
        actor=owner,
        data={
            "kind": "enterprise",
            "name": "太原评分测试建筑有限公司",
            "uscc": body + uscc_check_char(body),
            "region_code": "140105",
            "registered_capital": "500000",
            "industry": "E",
            "founded_on": timezone.localdate() - dt.timedelta(days=900),
        },
    )
    app = services.application_create(
        customer=customer,
        product_version=pv,
        amount=Money("200000"),
        months=12,
        annual_rate=Decimal("10"),
        purpose="购买施工设备",
        actor=owner,
    )
    services.document_upload(
        application=app, item="营业执照", name="执照.png", data=_png(), actor=owner
    )
    services.document_upload(
        application=app, item="财务报表", name="报表.xlsx", data=_xlsx(), actor=owner
    )
    return {"owner": owner, "risk": risk, "app": app}


def _as(page, login, user):
    page.context.clear_cookies()
    login(user)


def test_train_publish_and_score_an_application(page, login, world):
    page.on("dialog", lambda dialog: dialog.accept())

    # the risk manager trains a new version from an uploaded CSV
    _as(page, login, world["risk"])
    page.goto(f"{page.base_url}/scorecard/")
    assert page.locator("#scorecard-empty").count() == 1
    page.click("#train-new")
    page.check("input[name=source][value=csv]", force=True)
    assert page.locator("#panel-csv").is_visible() and not page.locator("#panel-book").is_visible()
    page.locator("input[name=file]").set_input_files(
        {"name": "旧系统历史.csv", "mimeType": "text/csv", "buffer": history_csv()}
    )
    page.fill("input[name=name]", "小微经营贷评分卡")
    page.fill("input[name=target]", "bad")
    page.fill("input[name=bad_value]", "1")
    page.click("#advanced-toggle")
    page.wait_for_selector("#advanced.show")
    assert page.get_attribute("input[name=pdo]", "placeholder") == "20"
    page.click("#train-submit")

    # the model card (reloads by itself if training is still running)
    page.wait_for_selector("#holdout-auc", timeout=60_000)
    card = Scorecard.objects.get()
    assert card.status == "draft" and card.source_name == "旧系统历史.csv"
    auc = card.model["metrics"]["holdout"]["auc"]
    assert auc > 0.7
    assert page.inner_text("#holdout-auc") == f"{auc:.3f}"
    assert page.inner_text("#scorecard-status") == "草稿"
    page.wait_for_selector("#distribution-chart[data-rendered='1']")
    features = page.inner_text("#features-table")
    assert "行业门类" in features and "成立年限（年）" in features
    assert "E 建筑业" in page.inner_text("#feature-industry")

    # publish
    page.click("#publish-scorecard")
    page.wait_for_selector("#scorecard-status:has-text('已发布')")
    card.refresh_from_db()
    assert card.status == "published" and card.published_by == world["risk"]

    # the insight page ranks the attributes of the published version
    page.goto(f"{page.base_url}/scorecard/insight/")
    page.wait_for_selector("#iv-chart[data-rendered='1']")
    ranking = page.inner_text("#iv-table")
    assert ranking.index("行业门类") < ranking.index("期限（月）")

    # the account manager submits an application: it is scored by the published version
    app = world["app"]
    _as(page, login, world["owner"])
    page.goto(f"{page.base_url}/origination/applications/{app.pk}/")
    assert page.inner_text("#application-score-none") == "尚未评分"
    page.click("#submit-application")
    page.wait_for_selector("#application-score-value")
    scored = ApplicationScore.objects.get(application=app)
    assert scored.scorecard == card
    assert page.inner_text("#application-score-value") == str(scored.score)
    assert page.inner_text("#application-score-grade") == f"{scored.grade} 级"
    reasons = page.inner_text("#application-score-reasons")
    first = scored.reasons[0] if scored.reasons else {}
    assert first and reason_text(first["feature"], first["bin"], first["label"]) in reasons
    assert "[" not in reasons  # bins as people write them (issue 15)
    assert f"-{scored.reasons[0]['lost']} 分" in reasons
    # the account manager may not open the model card: the version is shown without a link
    assert page.locator("#application-score-version a").count() == 0
    assert "小微经营贷评分卡 v1" in page.inner_text("#application-score-version")
    app.refresh_from_db()
    assert app.admission_passed is True, app.admission_reasons
    assert app.risk_score == scored.score and app.risk_grade == scored.grade

    # the risk manager follows the link from the application to the model card
    _as(page, login, world["risk"])
    page.goto(f"{page.base_url}/origination/applications/{app.pk}/")
    page.click("#application-score-version a")
    page.wait_for_selector("#scorecard-status:has-text('已发布')")
    assert page.console_errors == []


def test_model_card_follows_training_progress(page, login, world):
    """While the job runs the card polls its progress; when it finishes the page reloads."""
    from credo.scorecard import services as scorecard_services

    card = Scorecard.objects.create(
        number=1, name="进度测试", source="csv", progress=10, progress_note="读取训练数据"
    )
    _as(page, login, world["risk"])
    page.goto(f"{page.base_url}/scorecard/{card.pk}/")
    assert page.inner_text("#progress-note") == "读取训练数据"
    Scorecard.objects.filter(pk=card.pk).update(progress=35, progress_note="分箱、计算 WOE/IV")
    page.wait_for_selector("#progress-percent:has-text('35%')", timeout=8_000)

    rows = list(csv.DictReader(io.StringIO(history_csv(1000).decode())))
    columns = {k: [r[k] for r in rows] for k in rows[0] if k != "bad"}
    result = scorecard_services.train_columns(columns, [int(r["bad"]) for r in rows], {})
    model = result.to_dict()
    Scorecard.objects.filter(pk=card.pk).update(
        status="draft",
        model=model,
        rows=result.rows,
        bads=result.bads,
        auc=model["metrics"]["holdout"]["auc"],
        progress=100,
    )
    page.wait_for_selector("#holdout-auc", timeout=8_000)  # reloaded by the HX-Refresh
    assert page.inner_text("#scorecard-status") == "草稿"
    assert page.locator("#train-progress").count() == 0
    assert page.console_errors == []
