"""Scorecard services against the database: training (CSV, book), publish, scoring at
submission, PSI alerts, the CLI and the API."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from credo.core.audit.models import AuditEntry
from credo.core.todo.models import Todo
from credo.scorecard import features, services
from credo.scorecard.errors import InvalidInput, InvalidState, NotAllowed
from credo.scorecard.models import ApplicationScore, PsiCheck, Scorecard
from tests.scorecard.data import generate, to_csv

pytestmark = pytest.mark.django_db


def _train(actor, data, django_capture_on_commit_callbacks, **kw):
    with django_capture_on_commit_callbacks(execute=True):
        card = services.scorecard_train_start(
            actor=actor,
            source="csv",
            csv_data=data,
            csv_name="history.csv",
            target=kw.pop("target", "bad"),
            bad_value=kw.pop("bad_value", "1"),
            **kw,
        )
    card.refresh_from_db()
    return card


def test_csv_training_queues_then_stores_a_draft(
    risk_manager, history_csv, django_capture_on_commit_callbacks
):
    card = _train(risk_manager, history_csv, django_capture_on_commit_callbacks)
    assert card.status == "draft", card.error
    assert card.rows == 3000 and 0 < card.bads < 3000
    assert card.auc is not None and card.auc > 0.65
    names = {f["name"] for f in card.model["features"]}
    assert {"industry", "registered_capital"} <= names and "noise" not in names
    assert card.progress == 100 and card.trained_at is not None
    assert AuditEntry.objects.filter(action="scorecard.trained", object_id=str(card.pk)).exists()
    # the uploaded file is removed once trained
    assert not services.training._upload_path(card.pk).exists()


def test_csv_bad_input_changes_nothing(risk_manager, history_csv):
    with pytest.raises(InvalidInput, match="没有目标列"):
        services.scorecard_train_start(
            actor=risk_manager, source="csv", csv_data=history_csv, target="outcome", bad_value="1"
        )
    with pytest.raises(InvalidInput, match="只有一个类别"):
        services.scorecard_train_start(
            actor=risk_manager, source="csv", csv_data=history_csv, target="bad", bad_value="9"
        )
    with pytest.raises(InvalidInput, match="CSV"):
        services.scorecard_train_start(actor=risk_manager, source="csv", csv_data=b"", target="x")
    with pytest.raises(InvalidInput, match="pdo"):
        services.scorecard_train_start(
            actor=risk_manager,
            source="csv",
            csv_data=history_csv,
            target="bad",
            bad_value="1",
            config={"pdo": "-3"},
        )
    with pytest.raises(InvalidInput, match="等级分界"):
        services.clean_config({"grade_cuts": "600,640,680,560"})
    assert not Scorecard.objects.exists()


def test_training_needs_permission_and_refusal_is_audited(analyst, history_csv):
    with pytest.raises(NotAllowed):
        services.scorecard_train_start(
            actor=analyst, source="csv", csv_data=history_csv, target="bad", bad_value="1"
        )
    assert not Scorecard.objects.exists()
    assert AuditEntry.objects.filter(action="scorecard.denied", actor_id=analyst.pk).exists()


def test_all_missing_feature_dropped_with_a_note(risk_manager, django_capture_on_commit_callbacks):
    cols, target = generate(1500)
    cols["empty"] = [None] * len(target)
    card = _train(risk_manager, to_csv(cols, target), django_capture_on_commit_callbacks)
    assert card.status == "draft"
    dropped = {d["name"]: d["reason"] for d in card.model["dropped"]}
    assert "empty" in dropped and "缺失" in dropped["empty"]


def test_publish_replaces_the_previous_version(
    risk_manager, analyst, history_csv, django_capture_on_commit_callbacks
):
    first = _train(risk_manager, history_csv, django_capture_on_commit_callbacks)
    second = _train(risk_manager, history_csv, django_capture_on_commit_callbacks, name="第二版")
    services.scorecard_publish(scorecard=first, actor=risk_manager)
    with pytest.raises(NotAllowed):
        services.scorecard_publish(scorecard=second, actor=analyst)
    services.scorecard_publish(scorecard=second, actor=risk_manager)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("retired", "published")
    with pytest.raises(InvalidState):
        services.scorecard_publish(scorecard=first, actor=risk_manager)
    assert services.published() == second


def test_book_outcome_definition(make_loan, finance):
    """Ever DPD ≥ 30 within 12 months of disbursement, from installment payment dates."""
    from credo.lending import services as lending
    from credo.lending.models import Installment

    def loan(start):
        return lending.loan_disburse(loan=make_loan(months=24), actor=finance, value_date=start)

    old = dt.date(2023, 6, 15)
    on_time, late40, late20, late_after, recent_ok, recent_bad = (
        loan(old),
        loan(old),
        loan(old),
        loan(old),
        loan(dt.date(2025, 10, 1)),
        loan(dt.date(2025, 10, 1)),
    )
    for ln in (on_time, late40, late20, late_after, recent_ok, recent_bad):
        for inst in ln.installments.all():
            Installment.objects.filter(pk=inst.pk).update(paid_on=inst.due_date)

    def pay(ln, period, days):
        inst = ln.installments.get(period=period)
        paid = None if days is None else inst.due_date + dt.timedelta(days=days)
        Installment.objects.filter(pk=inst.pk).update(paid_on=paid)

    pay(late40, 3, 40)
    pay(late20, 3, 20)
    pay(late_after, 14, None)  # unpaid, but due after the 12-month window
    pay(recent_bad, 1, None)
    as_of = dt.date(2026, 1, 10)
    bad = features.bad_loans(None, dpd=30, months=12, as_of=as_of)
    assert set(bad) == {late40.pk, recent_bad.pk}
    cols, target, notes, summary = features.book_training_table(as_of=as_of)
    assert summary["rows"] == 5 and summary["indeterminate"] == 1  # recent_ok still in window
    assert sorted(target) == [0, 0, 0, 1, 1]
    assert cols["amount"][0] == 120000 and cols["prior_loans"][0] == 0
    assert any("重建" in n for n in notes)


@pytest.fixture
def published_card(risk_manager, history_csv, django_capture_on_commit_callbacks):
    card = _train(risk_manager, history_csv, django_capture_on_commit_callbacks)
    return services.scorecard_publish(scorecard=card, actor=risk_manager)


def test_application_scored_at_submission_and_grade_routes(
    published_card, make_app, complete, approvers
):
    from credo.origination import services as origination

    app = complete(make_app())
    app = origination.application_submit(application=app, actor=app.owner)
    stored = ApplicationScore.objects.get(application=app)
    assert stored.scorecard == published_card
    assert (app.risk_score, app.risk_grade) == (stored.score, stored.grade)
    assert stored.inputs["industry"] == "F" and stored.inputs["amount"] == 300000
    again = services.score_model(published_card).score(stored.inputs)
    assert again.score == stored.score  # deterministic from the stored inputs
    assert all(r["lost"] > 0 for r in stored.reasons)
    # the admission decision saw the score
    assert app.admission_evaluation.input["score"] == stored.score
    # re-scoring by the same version keeps the stored row
    assert services.score_applications([app])[0].pk == stored.pk


def test_missing_feature_uses_missing_bin(published_card, make_app, owner, staff_perms):
    from tests.origination.conftest import make_customer

    bare = make_customer(owner, n=7, registered_capital="", industry="", founded_on=None)
    [scored] = services.score_applications([make_app(cust=bare)])
    assert scored.inputs["registered_capital"] is None and scored.score > 0


def test_psi_alert_once_per_month(
    published_card, make_app, risk_manager, django_capture_on_commit_callbacks
):
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    app = make_app()
    # 40 applications scored last month, all at the very bottom of the score range.
    low = min(published_card.model["metrics"]["psi_baseline"]["edges"]) - 50
    rows = []
    from credo.origination.models import Application

    for i in range(40):
        clone = Application.objects.get(pk=app.pk)
        clone.pk = None
        clone.number = f"T{i:05d}"
        clone.save()
        rows.append(
            ApplicationScore(application=clone, scorecard=published_card, score=low, grade="E")
        )
    ApplicationScore.objects.bulk_create(rows)
    when = timezone.make_aware(dt.datetime.combine(month + dt.timedelta(days=3), dt.time(10)))
    ApplicationScore.objects.update(created_at=when)
    with django_capture_on_commit_callbacks(execute=True):
        check = services.psi_check()
    assert check.month == month and check.n == 40 and check.psi > 0.25 and check.alerted
    assert Todo.objects.filter(user=risk_manager, source="scorecard").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        services.psi_check()  # re-run: same row, no second alert
    assert PsiCheck.objects.count() == 1
    assert Todo.objects.filter(user=risk_manager, source="scorecard").count() == 1


def test_psi_needs_enough_applications(published_card):
    check = services.psi_check()
    assert check.psi is None and "样本不足" in check.note and not check.alerted


def test_cli_train_json_and_errors(tmp_path):
    path = tmp_path / "history.csv"
    path.write_bytes(to_csv(*generate(2000)))
    out = StringIO()
    call_command(
        "scorecard",
        "train",
        "--csv",
        str(path),
        "--target",
        "bad",
        "--bad-value",
        "1",
        "--json",
        "--publish",
        stdout=out,
    )
    data = json.loads(out.getvalue())
    assert data["status"] == "published" and data["holdout"]["auc"] > 0.6
    assert {"auc", "ks", "gini"} <= set(data["train"]) and data["features"]
    with pytest.raises(CommandError, match="没有目标列"):
        call_command("scorecard", "train", "--csv", str(path), "--target", "y", "--bad-value", "1")
    one_class = tmp_path / "one.csv"
    one_class.write_text("a,bad\n1,0\n2,0\n", encoding="utf-8")
    with pytest.raises(CommandError, match="只有一个类别"):
        call_command(
            "scorecard", "train", "--csv", str(one_class), "--target", "bad", "--bad-value", "1"
        )


def test_api_train_publish_score(
    client, risk_manager, analyst, history_csv, django_capture_on_commit_callbacks
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(analyst)
    resp = client.post(
        "/api/v1/scorecard/versions",
        {"source": "csv", "target": "bad", "bad_value": "1"},
    )
    assert resp.status_code == 403
    client.force_login(risk_manager)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post(
            "/api/v1/scorecard/versions",
            {
                "source": "csv",
                "target": "bad",
                "bad_value": "1",
                "pdo": "25",
                "file": SimpleUploadedFile("h.csv", history_csv, content_type="text/csv"),
            },
        )
    assert resp.status_code == 202, resp.content
    number = resp.json()["version"]
    assert Scorecard.objects.get(number=number).config["pdo"] == 25
    resp = client.post(
        "/api/v1/scorecard/versions",
        {
            "source": "csv",
            "target": "nope",
            "bad_value": "1",
            "file": SimpleUploadedFile("h.csv", history_csv, content_type="text/csv"),
        },
    )
    assert resp.status_code == 422 and "没有目标列" in resp.json()["message"]
    card = Scorecard.objects.get(number=number)
    # immediate task backend: trained on commit of the request
    assert card.status == "draft", card.error
    resp = client.post(
        f"/api/v1/scorecard/versions/{number}/publish",
        {"expected_version": card.version},
        content_type="application/json",
    )
    assert resp.status_code == 200 and resp.json()["status"] == "published"
    body = client.get(f"/api/v1/scorecard/versions/{number}").json()
    assert body["card"]["features"] and body["auc"] > 0.6
    resp = client.post(
        "/api/v1/scorecard/score",
        {"features": {"industry": "H", "registered_capital": 300000, "guarantee": "信用"}},
        content_type="application/json",
    )
    assert resp.status_code == 200
    risky = resp.json()
    safe = client.post(
        "/api/v1/scorecard/score",
        {"features": {"industry": "I", "registered_capital": 20000000, "guarantee": "抵押"}},
        content_type="application/json",
    ).json()
    assert safe["score"] > risky["score"] and risky["reasons"]
