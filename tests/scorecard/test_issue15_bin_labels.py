"""Issue 15 (10): scorecard bins and reason codes read as a person writes them — one formatter
(``selectors.label_display`` / ``bin_display`` / ``reason_text``) for the application page, the
approval task, the model card and the insight page."""

from __future__ import annotations

from unittest import mock

import pytest
from django.contrib.auth.models import Permission
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from credo.scorecard import selectors
from credo.scorecard.models import ApplicationScore, Scorecard
from tests.factories import RoleFactory, UserFactory
from tests.scorecard.test_views import make_card

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.mark.parametrize(
    ("feature", "label", "expected"),
    [
        ("registered_capital", "[1000000, 3000000)", "100万–300万元"),
        ("registered_capital", "< 500000", "< 50万元"),
        ("registered_capital", "≥ 1000000", "≥ 100万元"),
        ("amount", "[330000, 760000)", "33万–76万元"),
        ("amount", "≥ 150000000", "≥ 1.5亿元"),
        ("amount", "< 8000", "< 8000元"),
        ("business_years", "[3, 5)", "3–5年"),
        ("business_years", "< 3.2", "< 3.2年"),
        ("business_years", "≥ 18.9", "≥ 18.9年"),
        ("months", "[6, 12)", "6–12个月"),
        ("annual_rate", "[8, 12.5)", "8–12.5%"),
        ("registered_capital", "缺失", "缺失"),
        ("guarantee", "其他", "其他"),
        ("guarantee", "信用", "信用"),
        ("industry", "E、K", "E 建筑业、K 房地产业"),
        ("kind", "enterprise", "企业"),
        ("noise", "[0.5, 1.25)", "0.5–1.25"),
    ],
)
def test_label_display(feature, label, expected):
    assert selectors.label_display(feature, label) == expected


def test_bin_display_uses_the_edges():
    b = {"label": "[1000000, 3000000)", "lo": 1_000_000.0, "hi": 3_000_000.0, "categories": None}
    assert selectors.bin_display("registered_capital", b) == "100万–300万元"
    assert selectors.bin_display("registered_capital", {"label": "缺失", "missing": True}) == "缺失"
    other = {"label": "其他", "other": True, "categories": ["A", "B"]}
    assert selectors.bin_display("industry", other).startswith("其他（A 农、林、牧、渔业")


@pytest.mark.parametrize(
    ("feature", "label", "expected"),
    [
        ("registered_capital", "[1000000, 3000000)", "注册资本 100万–300万元"),
        ("business_years", "[3, 5)", "成立年限 3–5年"),
        ("business_years", "缺失", "成立年限 缺失"),
        ("industry", "E", "行业门类 E 建筑业"),
        ("guarantee", "其他", "担保方式 其他"),
    ],
)
def test_reason_text(feature, label, expected):
    assert selectors.reason_text(feature, label) == expected


def test_english_uses_digit_grouping():
    with translation.override("en"):
        assert selectors.number_text(1_000_000) == "1,000,000"


def _viewer(org):
    role = RoleFactory(code="sc-issue15", name="sc", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(content_type__app_label="scorecard", codename="view_scorecard")
    )
    return UserFactory(username="sc_issue15", org_unit=org["head"], roles=[role])


def test_model_card_and_insight_show_people_labels(client, org):
    card = make_card(1, Scorecard.Status.PUBLISHED)
    client.force_login(_viewer(org))
    for page in (
        reverse("scorecard:detail", args=[card.pk]),
        reverse("scorecard:insight") + f"?v={card.pk}",
    ):
        body = client.get(page).content.decode()
        assert "[500000, 1000000)" not in body and "< 500000" not in body, page
        assert "50万–100万元" in body and "&lt; 50万元" in body and "≥ 100万元" in body, page
        assert "3.2–5.8年" in body, page


def test_reason_codes_on_the_application_score(org):
    card = make_card(1, Scorecard.Status.PUBLISHED)
    user = _viewer(org)
    app_score = ApplicationScore(
        scorecard=card,
        score=543,
        grade="C",
        reasons=[
            {
                "feature": "registered_capital",
                "label": "注册资本（元）",
                "bin": "[1000000, 3000000)",
                "points": 10,
                "lost": 30,
            },
            {
                "feature": "business_years",
                "label": "成立年限（年）",
                "bin": "缺失",
                "points": 5,
                "lost": 12,
            },
        ],
    )

    class FakeApp:
        pk = 1

    request = RequestFactory().get("/")
    request.user = user
    with mock.patch("credo.scorecard.services.latest_score", return_value=app_score):
        html = Template("{% load scorecard_tags %}{% application_score app %}").render(
            Context({"app": FakeApp(), "request": request})
        )
    assert "注册资本 100万–300万元" in html and "成立年限 缺失" in html
    assert "[1000000" not in html and "注册资本（元）：" not in html
    assert "申请评分卡" in html and "评分卡等级" in html
