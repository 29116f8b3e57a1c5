"""Scorecard pages: list, training form, model card with progress, publish/retire, model JSON,
risk insight, and the score on the application page — permissions and refused input included."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from decimal import Decimal
from functools import cache

import pytest
from django.contrib.auth.models import Permission
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.lending.models import Product, ProductVersion
from credo.scorecard import services
from credo.scorecard.models import ApplicationScore, PsiCheck, Scorecard
from tests.factories import RoleFactory, UserFactory
from tests.scorecard import data

pytestmark = pytest.mark.django_db

VIEW, TRAIN, PUBLISH = "view_scorecard", "train_scorecard", "publish_scorecard"


def url(name, *args):
    return reverse(f"scorecard:{name}", args=args)


def make_csv(n: int = 1500, seed: int = 7) -> bytes:
    return data.make_csv(n, seed)


@cache
def trained_model() -> dict:
    """A real model (engine.train on the CSV above), computed once per test session."""
    reader = csv.DictReader(io.StringIO(make_csv().decode("utf-8-sig")))
    rows = list(reader)
    columns = {k: [r[k] for r in rows] for k in rows[0] if k != "bad"}
    target = [int(r["bad"]) for r in rows]
    model = services.train_columns(columns, target, {}).to_dict()
    model["source_summary"] = {"rows": len(target), "bads": sum(target)}
    return model


def make_card(number: int = 1, status: str = Scorecard.Status.DRAFT, **kw) -> Scorecard:
    model = trained_model()
    holdout = model["metrics"]["holdout"]
    defaults = {
        "number": number,
        "name": "测试评分卡",
        "status": status,
        "source": Scorecard.Source.CSV,
        "source_name": "history.csv",
        "config": {"target": "bad", "bad_value": "1"},
        "model": model,
        "rows": model["rows"],
        "bads": model["bads"],
        "auc": holdout["auc"],
        "ks": holdout["ks"],
        "gini": holdout["gini"],
        "feature_count": len(model["features"]),
        "progress": 100,
        "trained_at": timezone.now(),
        "training_seconds": 0.5,
    }
    defaults.update(kw)
    if status == Scorecard.Status.PUBLISHED:
        defaults.setdefault("published_at", timezone.now())
    return Scorecard.objects.create(**defaults)


def _user(org, username, *codenames):
    role = RoleFactory(code=f"sc-{username}", name=username, data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(content_type__app_label="scorecard", codename__in=codenames)
    )
    return UserFactory(username=username, org_unit=org["head"], roles=[role])


@pytest.fixture(autouse=True)
def document_root(settings, tmp_path):
    settings.CREDO_DOCUMENT_ROOT = str(tmp_path / "documents")


@pytest.fixture
def viewer(org):
    return _user(org, "sc_viewer", VIEW)


@pytest.fixture
def analyst(org):
    return _user(org, "sc_analyst", VIEW, TRAIN)


@pytest.fixture
def manager(org):
    return _user(org, "sc_manager", VIEW, TRAIN, PUBLISH)


def _snapshot():
    return list(
        Scorecard.objects.order_by("pk").values_list("pk", "status", "version", "published_at")
    )


# --- permissions --------------------------------------------------------------------------------
def test_user_without_permission_gets_403_everywhere(client, outsider):
    card = make_card()
    client.force_login(outsider)
    before = _snapshot()
    for path in (
        url("list"),
        url("train"),
        url("insight"),
        url("detail", card.pk),
        url("progress", card.pk),
        url("model_json", card.pk),
    ):
        assert client.get(path).status_code == 403, path
    for path in (url("train"), url("publish", card.pk), url("retire", card.pk)):
        assert client.post(path, {"source": "book"}).status_code == 403, path
    assert _snapshot() == before
    assert not AuditEntry.objects.filter(action="scorecard.model_download").exists()


def test_viewer_sees_but_cannot_train_or_publish(client, viewer):
    card = make_card()
    client.force_login(viewer)
    body = client.get(url("list")).content.decode()
    assert f'id="scorecard-{card.pk}"' in body and 'id="train-new"' not in body
    assert client.get(url("train")).status_code == 403
    body = client.get(url("detail", card.pk)).content.decode()
    assert 'id="publish-scorecard"' not in body and 'id="retire-scorecard"' not in body
    assert client.post(url("publish", card.pk)).status_code == 403
    assert client.post(url("retire", card.pk)).status_code == 403
    card.refresh_from_db()
    assert card.status == "draft" and card.version == 1


def test_anonymous_is_sent_to_login(client):
    resp = client.get(url("list"))
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


# --- list -----------------------------------------------------------------------------------------
def test_list_empty_state(client, analyst):
    client.force_login(analyst)
    body = client.get(url("list")).content.decode()
    assert 'id="scorecard-empty"' in body and "还没有评分卡" in body
    assert url("train") in body


def test_list_rows_and_psi_history_of_published(client, viewer, settings):
    settings.CREDO_SCORECARD_PSI_ALERT = 0.25
    old = make_card(1, Scorecard.Status.RETIRED)
    live = make_card(2, Scorecard.Status.PUBLISHED, name="小微评分卡")
    PsiCheck.objects.create(scorecard=live, month=dt.date(2026, 9, 1), n=120, psi=0.04)
    PsiCheck.objects.create(scorecard=live, month=dt.date(2026, 10, 1), n=130, psi=0.31)
    PsiCheck.objects.create(scorecard=old, month=dt.date(2026, 8, 1), n=99, psi=0.9)
    client.force_login(viewer)
    body = client.get(url("list")).content.decode()
    assert "v1" in body and "v2" in body and "小微评分卡" in body
    assert "已发布" in body and "已停用" in body
    assert f"{live.auc:.3f}" in body
    assert "2026-10" in body and "0.3100" in body and 'data-alert="1"' in body
    assert body.count('data-alert="1"') == 1  # 0.04 is fine; the retired version's row not shown
    assert "2026-08" not in body


def test_list_paginates_by_25(client, viewer):
    for n in range(1, 28):
        Scorecard.objects.create(number=n, name=f"卡{n}", status="failed", source="book")
    client.force_login(viewer)
    body = client.get(url("list")).content.decode()
    assert body.count('data-status="failed"') == 25
    body = client.get(url("list") + "?page=2").content.decode()
    assert body.count('data-status="failed"') == 2


# --- training form --------------------------------------------------------------------------------
def test_train_form_shows_defaults(client, analyst):
    client.force_login(analyst)
    body = client.get(url("train")).content.decode()
    for text in ("本机构贷款历史", "CSV 导入", "逾期天数阈值", "观察期（月）", "高级参数"):
        assert text in body
    assert 'placeholder="680,640,600,560"' in body and 'placeholder="0.02"' in body
    assert 'value="30"' in body and 'value="12"' in body


def test_train_csv_creates_version_and_trains(client, analyst, django_capture_on_commit_callbacks):
    client.force_login(analyst)
    upload = io.BytesIO(make_csv())
    upload.name = "history.csv"
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(
            url("train"),
            {
                "name": "导入评分卡",
                "source": "csv",
                "file": upload,
                "target": "bad",
                "bad_value": "1",
                "max_bins": "5",
                "pdo": "",
                "grade_cuts": "",
            },
        )
    card = Scorecard.objects.get()
    assert resp.status_code == 302 and resp["Location"] == url("detail", card.pk)
    assert card.name == "导入评分卡" and card.source == "csv" and card.source_name == "history.csv"
    # only the filled-in parameters are sent on
    assert card.config == {"max_bins": 5, "target": "bad", "bad_value": "1"}
    assert card.status == "draft", card.error
    assert card.auc > 0.65 and card.feature_count >= 3
    body = client.get(url("detail", card.pk)).content.decode()
    assert 'id="holdout-auc"' in body and f"{card.model['metrics']['holdout']['auc']:.3f}" in body


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"target": "bad", "bad_value": "1"}, "请选择要导入的 CSV 文件"),
        ({"target": "default_flag", "bad_value": "1", "file": True}, "CSV 中没有目标列"),
        ({"target": "", "bad_value": "1", "file": True}, "请填写目标列"),
        ({"target": "bad", "bad_value": "1", "file": True, "holdout": "0.9"}, "holdout"),
        ({"target": "bad", "bad_value": "1", "file": True, "grade_cuts": "600,640"}, "等级分界"),
    ],
)
def test_train_bad_input_shows_message_and_creates_nothing(client, analyst, data, message):
    client.force_login(analyst)
    post = {"name": "保留的名称", "source": "csv", **data}
    if post.pop("file", False):
        upload = io.BytesIO(make_csv(50))
        upload.name = "h.csv"
        post["file"] = upload
    resp = client.post(url("train"), post)
    body = resp.content.decode()
    assert resp.status_code == 400
    assert 'id="train-error"' in body and message in body
    assert 'value="保留的名称"' in body  # what was typed is kept
    assert not Scorecard.objects.exists()
    assert not AuditEntry.objects.filter(action="scorecard.train").exists()


def test_train_oversized_csv_refused(client, analyst, settings):
    settings.CREDO_SCORECARD_MAX_UPLOAD_MB = 0  # any file is too large
    client.force_login(analyst)
    upload = io.BytesIO(make_csv(50))
    upload.name = "h.csv"
    resp = client.post(
        url("train"), {"source": "csv", "file": upload, "target": "bad", "bad_value": "1"}
    )
    assert resp.status_code == 400 and "文件超过" in resp.content.decode()
    assert not Scorecard.objects.exists()


def test_train_from_book_queues_with_outcome_definition(client, analyst):
    client.force_login(analyst)
    resp = client.post(
        url("train"), {"source": "book", "outcome_dpd": "60", "outcome_months": "18"}
    )
    card = Scorecard.objects.get()
    assert resp.status_code == 302
    assert card.status == "training" and card.source == "book"
    assert card.config == {"outcome_dpd": 60, "outcome_months": 18}
    assert "18" in card.source_name and "60" in card.source_name


# --- model card & progress --------------------------------------------------------------------------
def test_progress_polls_while_training_then_refreshes(client, viewer):
    card = Scorecard.objects.create(
        number=1, name="训练中", source="book", progress=35, progress_note="分箱中"
    )
    client.force_login(viewer)
    body = client.get(url("detail", card.pk)).content.decode()
    assert 'id="train-progress"' in body and 'hx-trigger="every 2s"' in body
    assert url("progress", card.pk) in body and "分箱中" in body
    resp = client.get(url("progress", card.pk))
    assert resp.status_code == 200 and "35%" in resp.content.decode()
    assert "HX-Refresh" not in resp
    Scorecard.objects.filter(pk=card.pk).update(status="failed", error="样本太少：只有 3 行")
    resp = client.get(url("progress", card.pk))
    assert resp["HX-Refresh"] == "true"
    body = client.get(url("detail", card.pk)).content.decode()
    assert 'id="train-failed"' in body and "样本太少" in body
    assert 'id="train-progress"' not in body


def test_model_card_shows_metrics_features_bins_with_names(client, viewer):
    card = make_card()
    PsiCheck.objects.create(scorecard=card, month=dt.date(2026, 10, 1), n=40, psi=0.02)
    client.force_login(viewer)
    body = client.get(url("detail", card.pk)).content.decode()
    model = card.model
    assert 'id="metrics-table"' in body and f"{model['metrics']['train']['auc']:.3f}" in body
    assert 'id="distribution-chart"' in body and 'id="distribution-data"' in body
    assert "scorecard/card.js" in body
    assert 'id="bands-table"' in body
    names = {f["name"] for f in model["features"]}
    assert {"industry", "business_years"} <= names
    assert "行业门类" in body and "成立年限（年）" in body
    assert "E 建筑业" in body and "K 房地产业" in body  # industry codes with their names
    if "region" in names:
        assert "1402 山西省大同市" in body
    for d in model["dropped"]:
        assert d["reason"] in body
    assert "2026-10" in body
    assert "600 / 50" in body  # default scaling from the model's config


def test_model_json_download_is_audited(client, viewer):
    card = make_card()
    client.force_login(viewer)
    resp = client.get(url("model_json", card.pk))
    assert resp.status_code == 200 and "attachment" in resp["Content-Disposition"]
    payload = json.loads(resp.content)
    assert payload["model"] == card.model and payload["scorecard"]["number"] == 1
    entry = AuditEntry.objects.get(action="scorecard.model_download")
    assert entry.object_id == str(card.pk)


def test_model_json_of_untrained_version_is_404(client, viewer):
    card = Scorecard.objects.create(number=1, name="x", source="book")
    client.force_login(viewer)
    assert client.get(url("model_json", card.pk)).status_code == 404
    assert not AuditEntry.objects.filter(action="scorecard.model_download").exists()


def test_unknown_version_is_404(client, viewer):
    client.force_login(viewer)
    assert client.get(url("detail", 999)).status_code == 404


# --- publish / retire -------------------------------------------------------------------------------
def test_publish_replaces_the_published_version(client, manager):
    old = make_card(1, Scorecard.Status.PUBLISHED)
    new = make_card(2)
    client.force_login(manager)
    body = client.get(url("detail", new.pk)).content.decode()
    assert 'id="publish-scorecard"' in body
    resp = client.post(url("publish", new.pk), {"version": new.version}, follow=True)
    assert "v2 已发布" in resp.content.decode()
    old.refresh_from_db()
    new.refresh_from_db()
    assert new.status == "published" and new.published_by == manager
    assert old.status == "retired"


def test_publish_refused_shows_message_and_changes_nothing(client, manager):
    card = make_card(1, Scorecard.Status.PUBLISHED)
    draft = make_card(2)
    client.force_login(manager)
    before = _snapshot()
    resp = client.post(url("publish", card.pk), {"version": card.version}, follow=True)
    assert "只有草稿状态的评分卡可以发布" in resp.content.decode()
    resp = client.post(url("publish", draft.pk), {"version": draft.version + 5}, follow=True)
    assert "已被他人修改" in resp.content.decode()
    assert _snapshot() == before


def test_analyst_cannot_publish(client, analyst):
    card = make_card()
    client.force_login(analyst)
    assert client.post(url("publish", card.pk), {"version": 1}).status_code == 403
    card.refresh_from_db()
    assert card.status == "draft"


def test_retire(client, manager):
    card = make_card(1, Scorecard.Status.PUBLISHED)
    client.force_login(manager)
    resp = client.post(url("retire", card.pk), follow=True)
    assert "v1 已停用" in resp.content.decode()
    card.refresh_from_db()
    assert card.status == "retired" and card.retired_at is not None
    resp = client.post(url("retire", card.pk), follow=True)
    assert "不能停用" in resp.content.decode()


def test_get_on_actions_not_allowed(client, manager):
    card = make_card()
    client.force_login(manager)
    assert client.get(url("publish", card.pk)).status_code == 405
    assert client.get(url("retire", card.pk)).status_code == 405


# --- insight ------------------------------------------------------------------------------------------
def test_insight_empty_state(client, viewer):
    Scorecard.objects.create(number=1, name="训练中", source="book")
    client.force_login(viewer)
    body = client.get(url("insight")).content.decode()
    assert 'id="insight-empty"' in body and "还没有训练好的评分卡" in body


def test_insight_ranks_attributes_of_published_and_any_version(client, viewer):
    draft = make_card(1, name="草稿卡")
    live = make_card(2, Scorecard.Status.PUBLISHED, name="发布卡")
    client.force_login(viewer)
    body = client.get(url("insight")).content.decode()
    assert "发布卡" in body and f'<option value="{live.pk}" selected' in body
    assert 'id="iv-table"' in body and 'id="iv-chart"' in body and 'id="iv-data"' in body
    candidates = sorted(live.model["candidates"], key=lambda f: f["iv"], reverse=True)
    # ranking order: the table lists attributes by IV, highest first
    positions = [body.index(f'data-feature="{c["name"]}"') for c in candidates]
    assert positions == sorted(positions)
    assert "E 建筑业" in body
    # weak attributes (amount, months carry no signal) are labelled as such
    assert "申请金额（元）" in body and ">无<" in body and ">中<" in body
    body = client.get(url("insight") + f"?v={draft.pk}").content.decode()
    assert f'<option value="{draft.pk}" selected' in body and "草稿卡" in body
    # a bad ?v= falls back to the published version
    body = client.get(url("insight") + "?v=abc").content.decode()
    assert f'<option value="{live.pk}" selected' in body


# --- the score on the application page ------------------------------------------------------------------
@pytest.fixture
def application(org, owner):
    from credo.core.validators import uscc_check_char
    from credo.customers import services as customer_services
    from credo.origination import services as origination

    owner.roles.first().permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["origination", "customers"],
            codename__in=["view_application", "add_application", "view_customer", "add_customer"],
        )
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
        required_documents=["营业执照"],
    )
    body = "91140200MA0000123"
    customer = customer_services.customer_create(
        actor=owner,
        data={
            "kind": "enterprise",
            "name": "大同评分测试有限公司",
            "uscc": body + uscc_check_char(body),
            "region_code": "140213",
            "registered_capital": "500000",
            "industry": "E",
            "founded_on": timezone.localdate() - dt.timedelta(days=400),
        },
    )
    return origination.application_create(
        customer=customer,
        product_version=pv,
        amount=Money("300000"),
        months=12,
        annual_rate=Decimal("10"),
        purpose="采购",
        actor=owner,
    )


def _render_tag(app, user):
    request = RequestFactory().get("/")
    request.user = user
    template = Template("{% load scorecard_tags %}{% application_score app %}")
    return template.render(Context({"app": app, "request": request}))


def test_application_score_not_scored(application, owner):
    html = _render_tag(application, owner)
    assert 'id="application-score-none"' in html and "尚未评分" in html


def test_application_score_shows_score_grade_reasons(client, application, owner, viewer):
    card = make_card(1, Scorecard.Status.PUBLISHED)
    scored = services.score_application(application)
    assert isinstance(scored, ApplicationScore) and scored.reasons
    html = _render_tag(application, owner)
    assert f'id="application-score-value">{scored.score}<' in html
    assert f"{scored.grade} 级" in html
    first = scored.reasons[0]
    assert first["label"] in html and f"-{first['lost']} 分" in html
    # a young construction firm with little capital: the industry reason names the code
    assert any(r["feature"] == "industry" for r in scored.reasons)
    assert "行业门类 E 建筑业" in html
    assert "测试评分卡 v1" in html
    assert url("detail", card.pk) not in html  # the owner has no scorecard permission
    assert url("detail", card.pk) in _render_tag(application, viewer)
    # and the application page itself shows it
    client.force_login(owner)
    resp = client.get(reverse("origination:detail", args=[application.pk]))
    assert resp.status_code == 200
    assert 'id="application-score-grade"' in resp.content.decode()
