"""Issue 15 (4, 10): the credit report's rules grade and the application scorecard's grade are
named apart everywhere, both are kept, and every page says truthfully which one routed the
approval (what ``approvals.route`` received as ``risk_grade``). Decision models are shown by
name and version, never by key."""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse

from credo.approvals.selectors import instance_for
from credo.origination import services
from credo.origination.credit_report import risk_grade
from credo.scorecard.models import ApplicationScore, Scorecard
from tests.scorecard.test_views import make_card

pytestmark = pytest.mark.django_db


def _submit(make_app, complete, owner):
    return services.application_submit(application=complete(make_app()), actor=owner)


def test_without_scorecard_the_rules_grade_routes(client, make_app, complete, owner, approvers):
    app = _submit(make_app, complete, owner)
    assert app.risk_grade_source == "rules"
    assert (app.rules_score, app.rules_grade) == risk_grade(app.customer)
    assert (app.risk_score, app.risk_grade) == (app.rules_score, app.rules_grade)
    # what the routing model received
    assert instance_for(app).route_evaluation.input["risk_grade"] == app.rules_grade

    client.force_login(owner)
    page = client.get(reverse("origination:detail", args=[app.pk])).content.decode()
    assert f"审批路由依据：信用报告规则评级 {app.rules_grade}" in page
    assert "信用报告规则评分" in page and "规则评级" in page
    assert "风险评分" not in page and "风险等级" not in page
    # the admission model by name and version, never its key
    assert "贷款准入 第1版" in page and "origination.admission" not in page

    report = client.get(reverse("credit_report:page", args=[app.customer_id])).content.decode()
    assert 'id="cr-routing"' in report
    assert "信用报告规则评级（未发布申请评分卡" in report
    assert "origination.risk_score" not in report
    assert "信用报告规则评分 第1版" in report


def test_with_published_scorecard_the_scorecard_grade_routes(
    client, make_app, complete, owner, approvers
):
    make_card(1, Scorecard.Status.PUBLISHED)
    app = _submit(make_app, complete, owner)
    scored = ApplicationScore.objects.get(application=app)
    assert app.risk_grade_source == "scorecard"
    assert (app.risk_score, app.risk_grade) == (scored.score, scored.grade)
    assert (app.rules_score, app.rules_grade) == risk_grade(app.customer)  # kept alongside
    assert instance_for(app).route_evaluation.input["risk_grade"] == scored.grade

    client.force_login(owner)
    page = client.get(reverse("origination:detail", args=[app.pk])).content.decode()
    assert f"审批路由依据：申请评分卡等级 {scored.grade}" in page
    assert f'id="rules-grade-value">{app.rules_grade}' in page
    assert "申请评分卡" in page and "评分卡等级" in page

    url = reverse("credit_report:page", args=[app.customer_id])
    report = client.get(url).content.decode()
    assert "申请评分卡等级（测试评分卡 v1）" in report
    assert "本报告的规则评级不参与审批路由" in report
    assert "规则评级 " in report  # the page title badge names the grade

    # the PDF carries the same statement
    captured = {}

    class FakeHTML:
        def __init__(self, string, base_url=None):
            captured["html"] = string

        def write_pdf(self):
            return b"%PDF-1.4"

    with mock.patch("weasyprint.HTML", FakeHTML):
        resp = client.get(reverse("credit_report:pdf", args=[app.customer_id]))
    assert resp.status_code == 200
    assert "申请评分卡等级（测试评分卡 v1）" in captured["html"]
    assert "信用报告规则评分" in captured["html"]
