"""Pushed alerts (issue 23 item 8): a new alert reaches its assignee at once (todo + messages by
severity), never twice; the SLA escalates it (frozen clock); same-day checks after a reversed
repayment and after new litigation data; who receives what."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.utils import timezone
from freezegun import freeze_time

from credo.core.audit.models import AuditEntry
from credo.core.audit.services import audit_record
from credo.core.events.catalogue import event_types
from credo.core.events.stream import events_pump
from credo.core.todo.models import Todo
from credo.customers.models import ExternalProvider
from credo.monitoring import push, services
from credo.monitoring.batch import run_monitoring
from credo.monitoring.models import Alert, AlertAction, SameDayCheck
from credo.notify.models import Channel, Message, NotifyPreference
from credo.rules.services import ensure_defaults
from tests.factories import RoleFactory, UserFactory
from tests.monitoring.conftest import DAY, perms

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 15, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _setup(db):
    ensure_defaults()
    # one simulated gateway for every kind: the preferred channel (e-mail) is deliverable
    Channel.objects.create(name="模拟", engine=Channel.Engine.SIMULATED, is_default=True)


@pytest.fixture
def prefers_email(risk_manager):
    risk_manager.email = "riskm@example.com"
    risk_manager.save(update_fields=["email"])
    NotifyPreference.objects.create(user=risk_manager, preferred=["email"])
    return risk_manager


@pytest.fixture
def team_lead(org):
    role = RoleFactory(code="team_lead", name="团队主管", data_scope="team")
    role.permissions.add(*perms("monitoring.view_alert"))
    return UserFactory(username="lead", display_name="赵主管", org_unit=org["team_a"], roles=[role])


def _loan(customer_factory, loan_factory, **kw):
    return loan_factory(
        customer_factory(**kw),
        [(DAY - dt.timedelta(days=5), None), (DAY + dt.timedelta(days=25), None)],
    )


def _raise(loan, severity, code=None):
    alert, created = services.alert_raise(
        loan=loan,
        code=code or f"test_{severity}",
        name=f"测试预警-{severity}",
        severity=severity,
        sla_hours=0,
        reasons=[],
        snapshot={},
        actor=None,
    )
    assert created
    return alert


def _messages(alert):
    return Message.objects.filter(dedupe_key__startswith=f"monitoring.alert:{alert.pk}:")


# --- push by severity -------------------------------------------------------------------------
@freeze_time(NOW)
def test_alert_reaches_assignee_by_severity(customer_factory, loan_factory, prefers_email):
    rm = prefers_email
    alerts = {
        sev: _raise(_loan(customer_factory, loan_factory), sev)
        for sev in ("critical", "high", "medium", "low")
    }
    for sev, alert in alerts.items():
        assert alert.assignee == rm and alert.pushed_at is not None
        kinds = sorted(_messages(alert).values_list("kind", flat=True))
        # critical/high: preferred channel + in-app; medium: in-app (+ digest); low: in-app
        expected = {"critical": ["email", "inapp"], "high": ["email", "inapp"]}.get(sev, ["inapp"])
        assert kinds == expected, sev
        assert all(m.user_id == rm.pk for m in _messages(alert))
        todo = Todo.objects.get(dedupe_key=f"alert:{alert.pk}:handle")
        assert todo.user == rm and todo.url == f"/monitoring/alerts/{alert.pk}/"
        assert todo.due_date == timezone.localtime(alert.due_at).date()
        assert alert.digest_pending is (sev == "medium")
    # SLA per severity (the defaults of the policy decision table)
    hours = {s: (a.due_at - NOW).total_seconds() / 3600 for s, a in alerts.items()}
    assert hours == {"critical": 4, "high": 24, "medium": 72, "low": 168}
    assert Todo.objects.get(dedupe_key=f"alert:{alerts['critical'].pk}:handle").priority == 30
    assert Todo.objects.get(dedupe_key=f"alert:{alerts['low'].pk}:handle").priority == 10
    assert Message.objects.filter(user=rm).count() == 6
    assert Todo.objects.filter(user=rm).count() == 4
    raised = AuditEntry.objects.filter(action="monitoring.alert_raised")
    assert raised.count() == 4
    assert {tuple(e.metadata["alert_ids"]) for e in raised} == {(a.pk,) for a in alerts.values()}
    assert {e.object_id for e in raised} == {str(a.pk) for a in alerts.values()}


def test_no_preferred_channel_means_inbox_only(customer_factory, loan_factory, risk_manager):
    alert = _raise(_loan(customer_factory, loan_factory), "critical")
    assert list(_messages(alert).values_list("kind", flat=True)) == ["inapp"]


def test_nightly_batch_pushes_in_bulk_and_never_twice(
    customer_factory, loan_factory, prefers_email
):
    for _ in range(3):
        loan_factory(
            customer_factory(),
            [(DAY - dt.timedelta(days=40), None), (DAY + dt.timedelta(days=20), None)],
            dpd=40,
        )
    counts = run_monitoring(DAY)
    alerts = list(Alert.objects.all())
    assert counts["alerts_created"] == len(alerts) >= 3
    assert counts["alerts_pushed"] == len(alerts) == counts["alert_todos"]
    per_alert = {"critical": 2, "high": 2, "medium": 1, "low": 1}
    expected = sum(per_alert[a.severity] for a in alerts)
    assert counts["alert_messages"] == expected == Message.objects.count()
    assert Todo.objects.filter(user=prefers_email, source="monitoring").count() == len(alerts)
    # one audit row for the whole batch, listing every alert
    (row,) = AuditEntry.objects.filter(action="monitoring.alert_raised")
    assert sorted(row.metadata["alert_ids"]) == sorted(a.pk for a in alerts)
    assert row.metadata["source"] == "nightly"
    before = (Message.objects.count(), Todo.objects.count(), AuditEntry.objects.count())
    # re-running the batch, the same-day path and the sweep send nothing again
    again = run_monitoring(DAY)
    assert again.get("alerts_pushed", 0) == 0
    assert push.alerts_push([a.pk for a in alerts]) == {}
    assert push.alerts_push(None, source="sweep") == {}
    assert (Message.objects.count(), Todo.objects.count()) == before[:2]
    assert AuditEntry.objects.filter(action="monitoring.alert_raised").count() == 1


def test_sweep_pushes_alerts_that_were_never_pushed(customer_factory, loan_factory, risk_manager):
    alert = _raise(_loan(customer_factory, loan_factory), "high")
    Alert.objects.filter(pk=alert.pk).update(pushed_at=None)
    Message.objects.all().delete()
    Todo.objects.all().delete()
    counts = push.alerts_push(None, source="sweep")
    assert counts["alerts_pushed"] == 1 and counts["alert_todos"] == 1
    # the message dedupe keys answer the second push of the same alert: no duplicate
    Alert.objects.filter(pk=alert.pk).update(pushed_at=None)
    counts = push.alerts_push(None, source="sweep")
    assert counts["alert_messages"] == 0 and counts["alert_todos"] == 0
    assert Todo.objects.filter(dedupe_key=f"alert:{alert.pk}:handle").count() == 1


def test_daily_digest_once(customer_factory, loan_factory, prefers_email):
    a1 = _raise(_loan(customer_factory, loan_factory), "medium")
    a2 = _raise(_loan(customer_factory, loan_factory), "medium", code="other")
    _raise(_loan(customer_factory, loan_factory), "high")
    counts = push.alerts_digest()
    assert counts == {"digest_users": 1, "digest_alerts": 2, "digest_messages": 1}
    (msg,) = Message.objects.filter(dedupe_key__startswith="monitoring.digest:")
    assert msg.kind == "email" and msg.user == prefers_email
    assert a1.rule_name in msg.body and a2.rule_name in msg.body and "2" in msg.subject
    assert push.alerts_digest() == {}
    assert Alert.objects.filter(digest_pending=True).count() == 0


def test_close_cancels_the_alert_todo(customer_factory, loan_factory, risk_manager):
    alert = _raise(_loan(customer_factory, loan_factory), "high")
    services.alert_close(alert=alert, conclusion="已核实，风险可控", actor=risk_manager)
    assert Todo.objects.get(dedupe_key=f"alert:{alert.pk}:handle").status == "cancelled"


def test_event_catalogue_has_alert_raised():
    et = event_types.get("monitoring.alert_raised")
    assert et is not None and et.object_type == "monitoring.alert"
    assert "alert_ids" in et.fields


# --- SLA escalation ---------------------------------------------------------------------------
def test_sla_escalation_with_frozen_clock(
    customer_factory, loan_factory, risk_manager, team_lead, management
):
    with freeze_time(NOW):
        alert = _raise(_loan(customer_factory, loan_factory), "critical")  # 4 h
        handled = _raise(_loan(customer_factory, loan_factory), "critical")
        services.alert_acknowledge(alert=handled, actor=risk_manager)
    with freeze_time(NOW + dt.timedelta(hours=3, minutes=59)):
        assert push.alerts_escalate() == {}
        assert list(push.overdue_alerts()) == []
    with freeze_time(NOW + dt.timedelta(hours=4, minutes=1)):
        counts = push.alerts_escalate()
        assert counts == {"escalated": 1}  # the acknowledged alert stopped its clock
        assert push.alerts_escalate() == {}  # its new time limit is 4 h away
    alert.refresh_from_db()
    assert alert.status == "escalated" and alert.assignee == team_lead
    assert alert.escalation_level == 1
    assert alert.due_at == NOW + dt.timedelta(hours=8, minutes=1)
    act = alert.actions.get(kind=AlertAction.Kind.ESCALATE)
    assert act.detail["reason"] == "sla" and act.detail["from_user"] == risk_manager.pk
    assert act.detail["to_user"] == team_lead.pk and act.actor is None
    assert AuditEntry.objects.filter(
        action="monitoring.alert_escalate", object_id=str(alert.pk)
    ).exists()
    todo = Todo.objects.get(user=team_lead, dedupe_key=f"alert:{alert.pk}:escalation:1")
    assert todo.priority == 30
    assert Message.objects.filter(
        user=team_lead, dedupe_key=f"monitoring.alert:{alert.pk}:escalation:1:inapp"
    ).exists()
    handled.refresh_from_db()
    assert handled.status == "acknowledged" and handled.escalation_level == 0
    # still not handled 4 h later: the next role of the chain (management)
    with freeze_time(NOW + dt.timedelta(hours=8, minutes=2)):
        assert push.alerts_escalate() == {"escalated": 1}
        # the chain is exhausted: nobody further up
        with freeze_time(NOW + dt.timedelta(hours=20)):
            assert push.alerts_escalate() == {"escalation_no_target": 1}
    alert.refresh_from_db()
    assert alert.assignee == management and alert.escalation_level == 2
    assert alert.actions.filter(kind="escalate").count() == 2


def test_handling_an_escalated_alert_stops_the_clock(
    customer_factory, loan_factory, risk_manager, team_lead, management
):
    with freeze_time(NOW):
        alert = _raise(_loan(customer_factory, loan_factory), "critical")
    with freeze_time(NOW + dt.timedelta(hours=5)):
        push.alerts_escalate()
    with freeze_time(NOW + dt.timedelta(hours=6)):
        services.alert_contact(alert=alert, channel="phone", summary="已联系", actor=team_lead)
    with freeze_time(NOW + dt.timedelta(hours=12)):
        assert push.alerts_escalate() == {}
    alert.refresh_from_db()
    assert alert.assignee == team_lead


# --- same-day checks --------------------------------------------------------------------------
def test_sameday_check_after_reversed_repayment(
    customer_factory, loan_factory, risk_manager, django_capture_on_commit_callbacks
):
    events_pump()  # the consumer starts at the head of the stream
    loan = loan_factory(
        customer_factory(),
        [(DAY - dt.timedelta(days=35), None), (DAY + dt.timedelta(days=25), None)],
        dpd=35,
    )
    # what lending.services.repayment.posting_reverse writes after replaying the loan
    audit_record(
        action="loan.repayment_reverse", obj=loan, metadata={"posting": 1, "reason": "退票"}
    )
    with freeze_time(dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC)):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            events_pump()
        assert callbacks  # the re-check task is enqueued on commit, not run by the consumer
    check = SameDayCheck.objects.get(loan=loan)
    assert check.action == "loan.repayment_reverse" and check.checked_at is not None
    alert = Alert.objects.get(loan=loan, rule_code="dpd_30")
    assert alert.business_date == DAY and alert.assignee == risk_manager
    assert Todo.objects.filter(user=risk_manager, dedupe_key=f"alert:{alert.pk}:handle").exists()
    assert _messages(alert).exists()
    row = AuditEntry.objects.get(action="monitoring.alert_raised")
    assert row.metadata["source"] == "sameday" and alert.pk in row.metadata["alert_ids"]
    assert AuditEntry.objects.filter(action="monitoring.run_sameday").exists()
    # other loans were not evaluated (only the event's loan)
    assert check.result["loans"] == 1


class _Litigation(BaseHTTPRequestHandler):
    payload = {
        "litigation_count": 2,
        "serious_litigation": False,
        "judgment_debtor": False,
        "cases": [{"case_no": "（2026）晋01民初123号", "cause": "借款合同纠纷"}],
    }

    def do_POST(self):  # noqa: N802 — http.server API
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = json.dumps(self.payload, ensure_ascii=False).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def litigation_vendor():
    server = HTTPServer(("127.0.0.1", 0), _Litigation)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/judicial"
    server.shutdown()


def test_sameday_check_after_litigation_pull(
    customer_factory,
    loan_factory,
    risk_manager,
    owner,
    litigation_vendor,
    django_capture_on_commit_callbacks,
):
    from credo.customers.external import external_pull

    ExternalProvider.objects.create(
        name="司法数据", kind="litigation", engine="http_json", url=litigation_vendor
    )
    events_pump()
    customer = customer_factory(uscc="91140100MA0L123456")
    loan = loan_factory(customer, [(DAY + dt.timedelta(days=10), None)])
    other = _loan(customer_factory, loan_factory)
    # a pull of non-risk data (registry) re-checks nothing
    with django_capture_on_commit_callbacks(execute=True):
        external_pull(customer=customer, kind="registry", actor=owner)
        events_pump()
    assert not SameDayCheck.objects.exists()
    with (
        freeze_time(dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.UTC)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        pull = external_pull(customer=customer, kind="litigation", actor=owner)
        assert pull.status == "ok" and pull.parsed["litigation_count"] == 2
        events_pump()
    assert list(SameDayCheck.objects.values_list("loan_id", flat=True)) == [loan.pk]
    alert = Alert.objects.get(loan=loan, rule_code="new_litigation")
    assert alert.severity == "high" and alert.assignee == risk_manager and alert.pushed_at
    assert not Alert.objects.filter(loan=other).exists()
    assert Todo.objects.filter(dedupe_key=f"alert:{alert.pk}:handle").count() == 1


def test_consumer_only_records_and_ignores_failed_pulls(customer_factory, loan_factory):
    from credo.core.events.stream import Event
    from credo.monitoring.sameday import handle

    customer = customer_factory()
    loan = loan_factory(customer, [(DAY + dt.timedelta(days=10), None)])
    ev = Event(
        seq=1,
        audit_id=1,
        at=timezone.now(),
        action="customer.external_pull",
        object_type="customers.customer",
        object_id=str(customer.pk),
        metadata={"kind": "litigation", "status": "timeout"},
    )
    handle([ev])
    assert not SameDayCheck.objects.exists()
    handle([dataclasses.replace(ev, metadata={"kind": "litigation", "status": "ok"})])
    handle([dataclasses.replace(ev, metadata={"kind": "litigation", "status": "ok"})])
    assert list(SameDayCheck.objects.values_list("loan_id", "checked_at")) == [(loan.pk, None)]
    assert not Alert.objects.exists()  # evaluation is the task's job


# --- who receives what ------------------------------------------------------------------------
@pytest.fixture
def branch_scoped(risk_manager):
    """风控经理 seeing their own branch only (the seeded role sees everything)."""
    from credo.accounts.models import Role

    Role.objects.filter(code="risk_manager").update(data_scope="branch")
    return risk_manager


def test_alerts_go_to_the_branch_risk_manager_only(
    client, org, customer_factory, loan_factory, branch_scoped, outsider
):
    risk_manager = branch_scoped
    role = risk_manager.roles.get()
    rm2 = UserFactory(username="riskm2", display_name="孙风险", org_unit=org["b2"], roles=[role])
    a1 = _raise(_loan(customer_factory, loan_factory), "high")
    a2 = _raise(
        _loan(
            customer_factory,
            loan_factory,
            owner=outsider,
            team=org["team_c"],
            branch=org["b2"],
        ),
        "high",
    )
    assert a1.assignee == risk_manager and a2.assignee == rm2
    assert set(Message.objects.filter(user=risk_manager).values_list("dedupe_key", flat=True)) == {
        f"monitoring.alert:{a1.pk}:inapp"
    }
    assert not Todo.objects.filter(user=rm2, dedupe_key=f"alert:{a1.pk}:handle").exists()
    client.force_login(rm2)
    assert client.get(f"/monitoring/alerts/{a1.pk}/").status_code == 404
    page = client.get(f"/monitoring/alerts/{a2.pk}/")
    assert page.status_code == 200 and "处理时限与升级" in page.content.decode()
    client.force_login(outsider)  # the customer's owner, without monitoring permission
    assert client.get(f"/monitoring/alerts/{a2.pk}/").status_code == 403


def test_no_branch_risk_manager_falls_back_to_default_then_owner(
    org, customer_factory, loan_factory, branch_scoped, outsider, colleague, monkeypatch
):
    risk_manager = branch_scoped
    # riskm has branch scope in branch 1: a branch-2 alert is not theirs
    kw = {"owner": outsider, "team": org["team_c"], "branch": org["b2"]}
    alert = _raise(_loan(customer_factory, loan_factory, **kw), "high")
    assert alert.assignee == outsider
    assert not Message.objects.filter(user=risk_manager).exists()
    # a configured default assignee (the policy table's default_assignee) comes first
    real = push.policies

    def with_default():
        return {
            s: dataclasses.replace(p, default_assignee=colleague.username)
            for s, p in real().items()
        }

    monkeypatch.setattr(push, "policies", with_default)
    alert = _raise(_loan(customer_factory, loan_factory, **kw), "high", code="again")
    assert alert.assignee == colleague
    assert Todo.objects.filter(user=colleague, dedupe_key=f"alert:{alert.pk}:handle").exists()
    # a 风控经理 who sees every branch takes it when no default is configured
    monkeypatch.setattr(push, "policies", real)
    from credo.accounts.models import Role

    Role.objects.filter(code="risk_manager").update(data_scope="all")
    from django.core.cache import cache

    cache.clear()
    alert = _raise(_loan(customer_factory, loan_factory, **kw), "high", code="third")
    assert alert.assignee == risk_manager


def test_alert_list_overdue_filter(client, customer_factory, loan_factory, risk_manager):
    with freeze_time(NOW - dt.timedelta(days=2)):
        late = _raise(_loan(customer_factory, loan_factory), "critical")
    fresh = _raise(_loan(customer_factory, loan_factory), "low")
    client.force_login(risk_manager)
    body = client.get("/monitoring/alerts/?status=active&overdue=1").content.decode()
    assert f"/monitoring/alerts/{late.pk}/" in body
    assert f"/monitoring/alerts/{fresh.pk}/" not in body
    detail = client.get(f"/monitoring/alerts/{late.pk}/").content.decode()
    assert "已超时" in detail


def test_alert_links_match_the_url_conf():
    from django.urls import reverse

    assert push.alert_url(42) == reverse("monitoring:alert_detail", args=[42])
    assert reverse("monitoring:alert_list") == push.ALERT_LIST_URL


def test_manual_escalation_tells_the_head_and_restarts_the_clock(
    customer_factory, loan_factory, risk_manager, management
):
    with freeze_time(NOW):
        alert = _raise(_loan(customer_factory, loan_factory), "high")
        services.alert_escalate(alert=alert, note="金额较大，请领导决策", actor=risk_manager)
    alert.refresh_from_db()
    assert alert.status == "escalated" and alert.assignee == management
    assert alert.escalated_at == NOW and alert.due_at == NOW + dt.timedelta(hours=24)
    assert alert.escalation_level == 2  # past management in the chain: no way back down
    with freeze_time(NOW + dt.timedelta(hours=30)):
        assert push.alerts_escalate() == {"escalation_no_target": 1}
    (todo,) = Todo.objects.filter(user=management, source="monitoring")
    assert todo.dedupe_key.startswith(f"alert:{alert.pk}:escalation:manual:")
    assert Message.objects.filter(user=management, kind="inapp").count() == 1
    act = alert.actions.get(kind="escalate")
    assert act.detail["reason"] == "manual" and act.actor == risk_manager
    services.alert_close(alert=alert, conclusion="已处理", actor=management)
    todo.refresh_from_db()
    assert todo.status == "cancelled"
