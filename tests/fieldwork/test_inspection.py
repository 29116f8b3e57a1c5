"""Inspection results: required checklist items, photos with the document rules, location and
distance, idempotent sync, the timeline, and the alert of a failed inspection."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from credo.core.audit.models import AuditEntry
from credo.core.todo.models import Todo
from credo.customers.models import CustomerEvent
from credo.fieldwork import services
from credo.fieldwork.errors import InvalidState, InvalidSubmission, NotPermitted
from credo.fieldwork.models import CustomerSite, FieldPhoto, Inspection
from credo.monitoring.models import Alert
from tests.fieldwork.conftest import ALL_OK, DAY

pytestmark = pytest.mark.django_db


@pytest.fixture
def planned(customer_factory, loan_factory):
    loan_factory(customer_factory())
    services.plan_inspections(DAY)
    return Inspection.objects.get()


def _submit(insp, actor, photo, **kw):
    args = {"answers": ALL_OK, "result": "pass", "photos": [photo()]}
    args.update(kw)
    return services.inspection_submit(inspection=insp, actor=actor, **args)


def test_complete_pass_with_photo_and_location(planned, am, photo):
    CustomerSite.objects.create(
        customer=planned.customer,
        latitude=Decimal("37.870000"),
        longitude=Decimal("112.550000"),
        source="manual",
        set_by=am,
    )
    insp, created = _submit(
        planned,
        am,
        photo,
        location={
            "latitude": "37.871000",
            "longitude": "112.550000",
            "accuracy": "12.4",
            "located_at": "2026-06-15T02:30:00Z",
        },
        notes="经营正常",
    )
    assert created
    insp.refresh_from_db()
    assert insp.status == Inspection.Status.COMPLETED
    assert insp.result == "pass"
    assert insp.completed_by == am
    assert insp.latitude == Decimal("37.871000")
    assert insp.accuracy_m == 12
    assert insp.distance_m == 111  # 0.001° of latitude
    photo_row = FieldPhoto.objects.get(inspection=insp)
    assert photo_row.content_type == "image/png"
    from credo.origination import documents

    assert documents.path_of(photo_row.stored_name).exists()
    ev = CustomerEvent.objects.get(customer=insp.customer, source="fieldwork")
    assert ev.kind == "follow_up"
    assert ev.title == f"贷后检查（正常）：贷款 {insp.loan.number}"
    assert ev.detail["distance_m"] == 111
    assert AuditEntry.objects.filter(action="fieldwork.inspection_completed").count() == 1
    todo = Todo.objects.get(dedupe_key=services.todo_key(insp.pk))
    assert todo.status == Todo.Status.DONE
    assert not Alert.objects.exists()


def test_no_site_coordinates_means_no_distance(planned, am, photo):
    insp, _ = _submit(planned, am, photo, location={"latitude": "37.87", "longitude": "112.55"})
    assert insp.latitude == Decimal("37.870000")
    assert insp.distance_m is None


def test_required_items_result_and_photo_are_checked(planned, am, photo):
    answers = dict(ALL_OK, purpose="", litigation="na")
    with pytest.raises(InvalidSubmission) as exc:
        services.inspection_submit(
            inspection=planned, actor=am, answers=answers, result="", photos=[]
        )
    errors = exc.value.errors
    assert errors["purpose"] == "必填检查项，请选择“正常”或“异常”。"
    assert errors["litigation"] == "必填检查项，请选择“正常”或“异常”。"
    assert "collateral" not in errors  # optional item
    assert errors["result"] == "请选择检查结论。"
    assert errors["photos"] == "请至少拍摄 1 张现场照片。"
    planned.refresh_from_db()
    assert planned.status == Inspection.Status.PLANNED
    assert not FieldPhoto.objects.exists()
    assert not CustomerEvent.objects.filter(source="fieldwork").exists()


def test_issue_needs_notes(planned, am, photo):
    with pytest.raises(InvalidSubmission) as exc:
        _submit(planned, am, photo, answers=dict(ALL_OK, finance="issue"))
    assert exc.value.errors == {"notes": "有异常时必须填写检查情况说明。"}


def test_photo_goes_through_the_document_rules(planned, am):
    fake = services.Upload(name="p.jpg", data=b"MZ\x90\x00 not a photo")
    with pytest.raises(InvalidSubmission) as exc:
        services.inspection_submit(
            inspection=planned, actor=am, answers=ALL_OK, result="pass", photos=[fake]
        )
    assert "可执行程序" in exc.value.errors["photos"]
    pdf = services.Upload(name="a.pdf", data=b"%PDF-1.4 test")
    with pytest.raises(InvalidSubmission) as exc:
        services.inspection_submit(
            inspection=planned, actor=am, answers=ALL_OK, result="pass", photos=[pdf]
        )
    assert exc.value.errors["photos"] == "只接受 JPG 或 PNG 照片。"


def test_sync_is_idempotent_by_client_uuid(planned, am, photo):
    key = str(uuid.uuid4())
    first, created = _submit(planned, am, photo, client_uuid=key)
    assert created
    again, created_again = _submit(planned, am, photo, client_uuid=key)
    assert not created_again
    assert again.pk == first.pk
    assert FieldPhoto.objects.count() == 1
    assert CustomerEvent.objects.filter(source="fieldwork").count() == 1
    assert AuditEntry.objects.filter(action="fieldwork.inspection_completed").count() == 1


def test_second_submission_with_another_draft_is_refused(planned, am, photo):
    _submit(planned, am, photo, client_uuid=str(uuid.uuid4()))
    with pytest.raises(InvalidState):
        _submit(planned, am, photo, client_uuid=str(uuid.uuid4()))
    assert FieldPhoto.objects.count() == 1


def test_outsider_may_not_perform(planned, outsider_am, photo):
    with pytest.raises(NotPermitted):
        _submit(planned, outsider_am, photo)
    planned.refresh_from_db()
    assert planned.status == Inspection.Status.PLANNED


def test_failed_inspection_raises_an_alert(planned, am, photo, risk_manager):
    insp, _ = _submit(
        planned,
        am,
        photo,
        answers=dict(ALL_OK, operating="issue"),
        result="fail",
        notes="厂房停工，设备搬离",
    )
    alert = Alert.objects.get()
    assert alert.rule_code == "event.inspection_failed"
    assert alert.rule_name == "贷后检查异常"
    assert alert.severity == "high"
    assert alert.loan == insp.loan
    assert alert.assignee == risk_manager
    assert alert.status == Alert.Status.OPEN
    assert [r["description"] for r in alert.reasons] == [
        f"贷后检查结论为异常（检查 #{insp.pk}）",
        "经营场所正常经营",
    ]
    insp.refresh_from_db()
    assert insp.alert_id == alert.pk
    titles = list(CustomerEvent.objects.filter(customer=insp.customer).values_list("kind", "title"))
    assert (
        "follow_up",
        f"贷后检查（异常）：贷款 {insp.loan.number}，异常项：经营场所正常经营",
    ) in titles
    assert ("alert", "预警“贷后检查异常”产生：厂房停工，设备搬离") in titles


def test_event_alert_survives_the_nightly_reconciliation(planned, am, photo, risk_manager):
    from credo.monitoring.batch import run_monitoring

    _submit(
        planned, am, photo, answers=dict(ALL_OK, operating="issue"), result="fail", notes="停工"
    )
    run_monitoring(DAY)
    assert Alert.objects.get(rule_code="event.inspection_failed").status == Alert.Status.OPEN


def test_states_table():
    from credo.fieldwork.states import INSPECTION_MACHINE
    from tests.fsm_tables import assert_table

    S = Inspection.Status
    assert_table(
        INSPECTION_MACHINE,
        S.values,
        [(S.PLANNED, S.COMPLETED), (S.PLANNED, S.CANCELLED)],
    )
