from __future__ import annotations

import pytest

from credo.core.audit.models import AuditEntry
from credo.core.events.catalogue import event_types
from credo.records import schema, services
from credo.records.errors import InvalidDefinition, InvalidState, InvalidValues, NotPermitted
from credo.records.models import CustomRecord, RecordFile, RecordTypeVersion
from tests.factories import png_bytes
from tests.records.conftest import FIELDS, GOOD

pytestmark = pytest.mark.django_db


def test_create_type_validates_definition(designer):
    bad = [
        {"key": "Bad Key", "label": "x", "type": "text"},
        {"key": "a", "label": "", "type": "nope"},
        {"key": "c", "label": "公式", "type": "computed", "expression": "a >"},
        {"key": "s", "label": "子表", "type": "subtable", "columns": []},
        {"key": "r", "label": "角色", "type": "text", "view_roles": ["no_such_role"]},
        {"key": "ch", "label": "单选", "type": "choice", "options": []},
    ]
    with pytest.raises(InvalidDefinition) as exc:
        services.record_type_create(
            code="t1", name="测试", attached_to="customer", fields=bad, actor=designer
        )
    errors = exc.value.errors
    assert "1.key" in errors
    assert "2.type" in errors and "2.label" in errors
    assert "公式无法解析" in errors["3.expression"]
    assert "至少需要一列" in errors["4.columns"]
    assert "no_such_role" in errors["5.roles"]
    assert "至少需要一个选项" in errors["6.options"]
    assert not RecordTypeVersion.objects.exists()


def test_duplicate_keys_and_code_refused(designer, check_type):
    with pytest.raises(InvalidDefinition) as exc:
        services.record_type_create(
            code="post_loan_check", name="重复", attached_to="loan", fields=FIELDS, actor=designer
        )
    assert "已存在" in exc.value.errors["code"]
    dup = [{"key": "a", "label": "A", "type": "text"}, {"key": "a", "label": "B", "type": "text"}]
    with pytest.raises(InvalidDefinition) as exc:
        services.record_type_create(
            code="t2", name="重复字段", attached_to="loan", fields=dup, actor=designer
        )
    assert "重复" in exc.value.errors["2.key"]


def test_versions_publish_and_retire(designer, check_type):
    v1 = check_type.versions.get()
    assert v1.status == "published" and v1.published_by == designer
    draft = services.record_type_update(
        record_type=check_type,
        actor=designer,
        fields=[*FIELDS, {"key": "extra", "label": "补充", "type": "text"}],
        note="加一个字段",
    )
    assert draft.number == 2 and draft.status == "draft"
    # saving again edits the same draft
    again = services.record_type_update(record_type=check_type, actor=designer, fields=FIELDS)
    assert again.pk == draft.pk
    services.record_type_publish(version=draft, actor=designer)
    v1.refresh_from_db()
    draft.refresh_from_db()
    assert (v1.status, draft.status) == ("retired", "published")
    with pytest.raises(InvalidState):
        services.record_type_publish(version=draft, actor=designer)
    services.record_type_retire(record_type=check_type, actor=designer)
    assert not RecordTypeVersion.objects.filter(status="published").exists()
    with pytest.raises(InvalidState):
        services.record_type_retire(record_type=check_type, actor=designer)
    actions = set(
        AuditEntry.objects.filter(object_type="records.recordtype").values_list("action", flat=True)
    )
    assert {
        "records.recordtype.create",
        "records.recordtype.update",
        "records.recordtype.publish",
        "records.recordtype.retire",
    } <= actions


def test_record_create_computes_and_audits(am, customer, check_type):
    record = services.record_create(
        record_type=check_type, values=GOOD, actor=am, customer=customer
    )
    assert record.number.startswith("R") and len(record.number) == 13
    v = record.values
    assert v["visit_date"] == "2026-06-15"
    assert v["revenue"] == 12000050  # fen
    assert v["staff"] == "12"
    assert v["risks"] == ["stock"]
    assert v["operating"] is True
    assert v["items"] == [{"name": "钢材", "amount": 100010}, {"name": "配件", "amount": 20000}]
    assert v["stock_total"] == 120010  # 1000.10 + 200 元 = 1200.10 元
    entry = AuditEntry.objects.get(action="records.create")
    assert entry.object_type == "records.customrecord"
    assert entry.object_id == str(record.pk)
    assert entry.changes["stock_total"] == {"old": None, "new": 120010}
    assert entry.metadata["record_type"] == "post_loan_check"
    assert "records.create" in event_types and "records.update" in event_types


def test_required_rules_and_errors_write_nothing(am, customer, check_type):
    with pytest.raises(InvalidValues) as exc:
        services.record_create(
            record_type=check_type,
            values={
                "result": "fail",
                "revenue": "-5",
                "staff": "abc",
                "items": [{"amount": "1.234"}],
                "bogus": 1,
            },
            actor=am,
            customer=customer,
        )
    errors = exc.value.errors
    assert errors["visit_date"] == "此字段为必填项。"
    assert errors["problem"] == "此字段为必填项。"  # required because result == "fail"
    assert "revenue" in errors and "staff" in errors
    assert "品名" in errors["items.1.name"]
    assert "两位小数" in errors["items.1.amount"]
    assert errors["bogus"] == "未知的字段。"
    assert not CustomRecord.objects.exists()
    assert not AuditEntry.objects.filter(action="records.create").exists()
    # condition false → not required
    ok = services.record_create(
        record_type=check_type,
        values={"visit_date": "2026-06-15", "result": "ok"},
        actor=am,
        customer=customer,
    )
    assert "problem" not in ok.values


def test_parent_must_match_attachment(am, customer, loan, check_type):
    with pytest.raises(InvalidValues):
        services.record_create(record_type=check_type, values=GOOD, actor=am, loan=loan)
    with pytest.raises(InvalidValues):
        services.record_create(
            record_type=check_type, values=GOOD, actor=am, customer=customer, loan=loan
        )


def test_unpublished_type_cannot_be_filled(designer, am, customer, risk_role):
    rt = services.record_type_create(
        code="draft_only", name="草稿表", attached_to="customer", fields=FIELDS, actor=designer
    )
    with pytest.raises(InvalidState):
        services.record_create(record_type=rt, values=GOOD, actor=am, customer=customer)


def test_role_permissions(designer, am, risk, customer, check_type):
    # field level: am may neither see nor edit risk_note; risk may
    with pytest.raises(InvalidValues) as exc:
        services.record_create(
            record_type=check_type, values={**GOOD, "risk_note": "x"}, actor=am, customer=customer
        )
    assert exc.value.errors["risk_note"] == "无权编辑此字段。"
    record = services.record_create(
        record_type=check_type,
        values={**GOOD, "risk_note": "关注存货"},
        actor=risk,
        customer=customer,
    )
    # am edits another field: risk_note is kept
    updated = services.record_update(record=record, values={"staff": "13"}, actor=am)
    assert updated.values["risk_note"] == "关注存货" and updated.values["staff"] == "13"
    assert updated.values["revenue"] == 12000050  # partial update keeps the rest
    assert schema.Viewer.of(am).can_view(check_type.versions.get().fields[-1]) is False
    # type level: only risk may fill
    services.record_type_update(
        record_type=check_type, actor=designer, fields=FIELDS, edit_roles=["rec_risk"]
    )
    services.record_type_publish(version=check_type.versions.get(status="draft"), actor=designer)
    with pytest.raises(NotPermitted):
        services.record_create(record_type=check_type, values=GOOD, actor=am, customer=customer)


def test_update_audits_changes(am, customer, check_type):
    record = services.record_create(
        record_type=check_type, values=GOOD, actor=am, customer=customer
    )
    services.record_update(
        record=record,
        values={"items": [{"name": "钢材", "amount": "50"}]},
        actor=am,
    )
    record.refresh_from_db()
    assert record.values["stock_total"] == 5000
    entry = AuditEntry.objects.get(action="records.update")
    assert entry.object_type == "records.customrecord"
    assert entry.changes["stock_total"] == {"old": 120010, "new": 5000}
    assert set(entry.changes) == {"items", "stock_total"}
    # no change → no audit row
    services.record_update(record=record, values={}, actor=am)
    assert AuditEntry.objects.filter(action="records.update").count() == 1


def test_photos_stored_with_document_rules(am, customer, check_type):
    record = services.record_create(
        record_type=check_type,
        values=GOOD,
        actor=am,
        customer=customer,
        uploads={"photos": [schema.Upload("site.png", png_bytes())]},
        strict=False,
    )
    f = RecordFile.objects.get(record=record)
    assert record.values["photos"] == [f.pk]
    assert f.content_type == "image/png" and f.field_key == "photos"
    from credo.origination import documents

    assert documents.path_of(f.stored_name).exists()
    # a PDF is no photo; a text file renamed .png is refused by content sniffing
    for up in (schema.Upload("x.png", b"%PDF-1.4 not an image"), schema.Upload("a.png", b"hello")):
        with pytest.raises(InvalidValues) as exc:
            services.record_create(
                record_type=check_type,
                values=GOOD,
                actor=am,
                customer=customer,
                uploads={"photos": [up]},
                strict=False,
            )
        assert "photos" in exc.value.errors
    # too many
    with pytest.raises(InvalidValues) as exc:
        services.record_create(
            record_type=check_type,
            values=GOOD,
            actor=am,
            customer=customer,
            uploads={"photos": [schema.Upload(f"{i}.png", png_bytes()) for i in range(4)]},
            strict=False,
        )
    assert "最多 3" in exc.value.errors["photos"]
    # removing a photo on update
    updated = services.record_update(record=record, values={}, actor=am, removed={"photos": [f.pk]})
    assert updated.values["photos"] == []
    assert not RecordFile.objects.filter(pk=f.pk).exists()


def test_required_photo(designer, am, customer):
    rt = services.record_type_create(
        code="visit",
        name="现场走访记录",
        attached_to="customer",
        fields=[
            {"key": "note", "label": "情况", "type": "text"},
            {"key": "pic", "label": "门头照片", "type": "photo", "required": True},
        ],
        actor=designer,
    )
    services.record_type_publish(version=rt.versions.get(), actor=designer)
    with pytest.raises(InvalidValues) as exc:
        services.record_create(record_type=rt, values={"note": "x"}, actor=am, customer=customer)
    assert exc.value.errors["pic"] == "此字段为必填项。"
    services.record_create(
        record_type=rt,
        values={"note": "x"},
        actor=am,
        customer=customer,
        uploads={"pic": [schema.Upload("p.png", png_bytes())]},
    )
