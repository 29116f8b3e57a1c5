import datetime as dt

import pytest
from django.utils import timezone

from credo.core.audit.models import AuditEntry
from credo.core.money import Money
from credo.customers.models import CustomerEvent
from credo.origination import documents, services
from credo.origination.errors import (
    InvalidApplication,
    InvalidDocument,
    InvalidState,
    NotAllowed,
    PortalLinkInvalid,
    RateLimited,
    StaleVersion,
)
from credo.origination.models import Application, CorrectionNotice, Document, PortalLink
from credo.origination.services import portal, submission
from tests.origination.conftest import PDF, make_customer, png_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db


def test_create_copies_scope_and_number(make_app, owner, customer):
    app = make_app()
    assert app.number.startswith(f"A{timezone.localdate():%Y%m%d}") and app.number.endswith("0001")
    assert make_app().number.endswith("0002")
    assert app.owner == owner and app.team == customer.team and app.branch == customer.branch
    assert app.status == "draft" and app.method == "equal_installment"
    assert AuditEntry.objects.filter(action="application.create", object_id=str(app.pk)).exists()
    assert CustomerEvent.objects.filter(customer=customer, kind="application").exists()


@pytest.mark.parametrize(
    "kw",
    [
        {"amount": "100"},
        {"amount": "9000000"},
        {"months": 1},
        {"rate": "30"},
    ],
)
def test_create_refuses_out_of_range_terms(make_app, kw):
    with pytest.raises(InvalidApplication):
        make_app(**kw)
    assert Application.objects.count() == 0


def test_create_refused_for_outsider_and_colleague(
    outsider, colleague, customer, product_version, staff_perms
):
    for user in (outsider, colleague):
        with pytest.raises(NotAllowed):
            services.application_create(
                customer=customer,
                product_version=product_version,
                amount=Money("300000"),
                months=12,
                purpose="x",
                actor=user,
            )
    assert Application.objects.count() == 0


def test_guarantees_cleaned(make_app):
    from credo.collateral.models import Collateral

    app = make_app(
        guarantees=[
            {"type": "guarantor", "name": "王五"},
            {"type": "collateral", "name": "房产", "value": "800000"},
        ]
    )
    # collateral becomes a record; a guarantor named only stays declared on the application
    assert app.guarantees == [{"type": "guarantor", "name": "王五", "value": None}]
    house = Collateral.objects.get(links__application_id=app.pk)
    assert house.description == "房产" and house.current_value.fen == 80_000_000
    with pytest.raises(InvalidApplication):
        make_app(guarantees=[{"type": "bogus", "name": "x"}])


# --- documents -------------------------------------------------------------------------------
def test_upload_and_review(make_app, owner, reviewer, document_root):
    app = make_app()
    doc = services.document_upload(
        application=app, item="营业执照", name="licence.png", data=png_bytes(), actor=owner
    )
    assert doc.status == "pending" and doc.content_type == "image/png"
    assert doc.stored_name != "licence.png" and documents.path_of(doc.stored_name).exists()
    assert str(documents.path_of(doc.stored_name)).startswith(str(document_root))
    assert services.completeness(app) == 50
    services.document_review(document=doc, accept=True, actor=reviewer)
    doc.refresh_from_db()
    assert doc.status == "accepted" and doc.reviewed_by == reviewer


def test_executable_renamed_pdf_rejected_with_reason(make_app, owner):
    app = make_app()
    exe = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200
    with pytest.raises(InvalidDocument) as err:
        services.document_upload(
            application=app, item="营业执照", name="licence.pdf", data=exe, actor=owner
        )
    assert "可执行" in err.value.message
    assert Document.objects.count() == 0
    refused = AuditEntry.objects.get(action="document.upload_refused")
    assert "可执行" in refused.metadata["reason"]


@pytest.mark.parametrize(
    "item,name,data,fragment",
    [
        ("营业执照", "a.pdf", b"#!/bin/sh\nrm -rf /\n", "可执行"),
        ("营业执照", "a.pdf", b"\x7fELF\x02\x01" + b"\x00" * 50, "可执行"),
        ("营业执照", "a.png", PDF, "不符"),
        ("营业执照", "a.exe", PDF, "只接受"),
        ("营业执照", "a.png", b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "无法读取"),
        ("营业执照", "a.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 20, "无法读取"),
        ("财务报表", "a.xlsx", b"PK\x03\x04" + b"\x00" * 40, "不符"),
        ("营业执照", "a.pdf", b"", "为空"),
    ],
)
def test_bad_files_refused(make_app, owner, item, name, data, fragment):
    app = make_app()
    with pytest.raises(InvalidDocument) as err:
        services.document_upload(application=app, item=item, name=name, data=data, actor=owner)
    assert fragment in err.value.message
    assert Document.objects.count() == 0


def test_oversize_refused(make_app, owner):
    app = make_app()
    big = PDF + b"0" * (5 * 1024 * 1024)
    with pytest.raises(InvalidDocument) as err:
        services.document_upload(
            application=app, item="营业执照", name="a.pdf", data=big, actor=owner
        )
    assert "过大" in err.value.message and "5 MB" in err.value.message
    assert Document.objects.count() == 0


def test_valid_kinds_accepted(make_app, owner):
    app = make_app()
    d1 = services.document_upload(
        application=app, item="营业执照", name="a.PDF", data=PDF, actor=owner
    )
    d2 = services.document_upload(
        application=app, item="财务报表", name="fs.xlsx", data=xlsx_bytes(), actor=owner
    )
    assert d1.content_type == "application/pdf" and d2.content_type.endswith("sheet")


def test_item_not_in_checklist(make_app, owner):
    with pytest.raises(InvalidDocument):
        services.document_upload(
            application=make_app(), item="户口本", name="a.pdf", data=PDF, actor=owner
        )


def test_upload_refused_for_colleague_and_outsider(make_app, colleague, outsider):
    app = make_app()
    for user in (colleague, outsider):
        with pytest.raises(NotAllowed):
            services.document_upload(
                application=app, item="营业执照", name="a.pdf", data=PDF, actor=user
            )
    assert Document.objects.count() == 0


def test_reject_issues_correction_notice_and_reupload_resolves(make_app, owner, reviewer):
    app = make_app()
    doc = services.document_upload(
        application=app, item="营业执照", name="a.png", data=png_bytes(), actor=owner
    )
    with pytest.raises(InvalidDocument):  # a reason is required
        services.document_review(document=doc, accept=False, actor=reviewer)
    assert CorrectionNotice.objects.count() == 0
    services.document_review(document=doc, accept=False, reason="照片模糊", actor=reviewer)
    notice = CorrectionNotice.objects.get()
    assert notice.items == [
        {"item": "营业执照", "problem": "rejected", "reason": "照片模糊"},
        {"item": "财务报表", "problem": "missing", "reason": "未上传"},
    ]
    # the borrower is told exactly what to fix (sent after commit; called directly here), once
    from credo.notify.models import Message

    services.notify_correction(notice)
    services.notify_correction(notice)
    [msg] = Message.objects.filter(dedupe_key=f"correction-notice:{notice.pk}")
    assert "营业执照（照片模糊）" in msg.body and "财务报表（未上传）" in msg.body
    with pytest.raises(InvalidState):
        services.application_submit(application=app, actor=owner)
    app.refresh_from_db()
    assert app.status == "draft"
    services.document_upload(application=app, item="营业执照", name="b.pdf", data=PDF, actor=owner)
    notice.refresh_from_db()
    assert notice.resolved_at is None  # 财务报表 still missing
    services.document_upload(
        application=app, item="财务报表", name="fs.xlsx", data=xlsx_bytes(), actor=owner
    )
    notice.refresh_from_db()
    assert notice.resolved_at is not None


def test_review_requires_permission(make_app, owner, colleague):
    app = make_app()
    doc = services.document_upload(
        application=app, item="营业执照", name="a.pdf", data=PDF, actor=owner
    )
    for user in (owner, colleague):
        with pytest.raises(NotAllowed):
            services.document_review(document=doc, accept=True, actor=user)
    doc.refresh_from_db()
    assert doc.status == "pending"


# --- portal ----------------------------------------------------------------------------------
def test_portal_link_hashed_and_upload(make_app, owner):
    app = make_app()
    link, token = services.portal_link_create(application=app, actor=owner)
    assert token not in link.token_hash and len(link.token_hash) == 64
    assert link.expires_at > timezone.now() + dt.timedelta(days=6)
    doc = services.portal_upload(token=token, item="营业执照", name="a.pdf", data=PDF)
    assert doc.via == "portal" and doc.uploaded_by is None
    entry = AuditEntry.objects.get(action="document.upload")
    assert entry.actor_id is None and entry.metadata["portal_link"] == link.pk


def test_portal_link_outsider_refused(make_app, outsider):
    with pytest.raises(NotAllowed):
        services.portal_link_create(application=make_app(), actor=outsider)
    assert PortalLink.objects.count() == 0


def test_expired_revoked_unknown_links(make_app, owner):
    app = make_app()
    link, token = services.portal_link_create(application=app, actor=owner)
    with pytest.raises(PortalLinkInvalid) as err:
        services.portal_resolve("nope")
    assert err.value.status == 404
    PortalLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - dt.timedelta(1))
    with pytest.raises(PortalLinkInvalid) as err:
        services.portal_upload(token=token, item="营业执照", name="a.pdf", data=PDF)
    assert err.value.status == 410 and "过期" in err.value.message
    link2, token2 = services.portal_link_create(application=app, actor=owner)
    services.portal_link_revoke(link=link2, actor=owner)
    with pytest.raises(PortalLinkInvalid) as err:
        services.portal_submit(token=token2)
    assert "撤销" in err.value.message
    assert Document.objects.count() == 0
    app.refresh_from_db()
    assert app.status == "draft"


def test_portal_rate_limit(make_app, owner, monkeypatch):
    monkeypatch.setattr(portal, "PORTAL_UPLOADS_PER_WINDOW", 2)
    app = make_app()
    _link, token = services.portal_link_create(application=app, actor=owner)
    services.portal_upload(token=token, item="营业执照", name="a.pdf", data=PDF)
    services.portal_upload(token=token, item="营业执照", name="a.pdf", data=PDF)
    with pytest.raises(RateLimited):
        services.portal_upload(token=token, item="营业执照", name="a.pdf", data=PDF)
    assert Document.objects.count() == 2


# --- submit / admission ----------------------------------------------------------------------
def test_submit_admission_reject_with_reasons(owner, staff_perms, product_version, complete):
    bad = make_customer(owner, 2, registered_capital="100000", industry="K")
    app = services.application_create(
        customer=bad,
        product_version=product_version,
        amount=Money("300000"),
        months=12,
        purpose="x",
        actor=owner,
    )
    complete(app)
    app = services.application_submit(application=app, actor=owner)
    assert app.status == "admission_rejected" and app.admission_passed is False
    assert [r["reason"] for r in app.admission_reasons] == [
        "注册资本低于 50 万元",
        "属于限制准入行业（金融业、房地产业）",
    ]
    assert app.admission_evaluation.model_key == "origination.admission"
    ev = CustomerEvent.objects.filter(customer=bad, kind="decision").first()
    assert "注册资本低于 50 万元" in ev.title


def test_admission_uses_pulled_litigation(owner, staff_perms, product_version, complete):
    from credo.customers.models import ExternalProvider, ExternalPull

    cust = make_customer(owner, 3)
    provider = ExternalProvider.objects.create(
        name="模拟司法", kind="litigation", engine="simulated"
    )
    ExternalPull.objects.create(
        customer=cust,
        provider=provider,
        kind="litigation",
        requested_by=owner,
        status="ok",
        parsed={"litigation_count": 4, "judgment_debtor": False},
    )
    app = services.application_create(
        customer=cust,
        product_version=product_version,
        amount=Money("300000"),
        months=12,
        purpose="x",
        actor=owner,
    )
    complete(app)
    app = services.application_submit(application=app, actor=owner)
    assert app.status == "admission_rejected"
    assert [r["code"] for r in app.admission_reasons] == ["litigation"]


def test_submit_stale_version_and_wrong_state(make_app, owner, complete):
    app = complete(make_app())
    with pytest.raises(StaleVersion):
        services.application_submit(application=app, actor=owner, expected_version=999)
    services.application_withdraw(application=app, actor=owner, reason="客户不需要了")
    with pytest.raises(InvalidState):
        services.application_submit(application=app, actor=owner)


def test_submit_refused_for_colleague_outsider(make_app, colleague, outsider, complete):
    app = complete(make_app())
    for user in (colleague, outsider):
        with pytest.raises(NotAllowed):
            services.application_submit(application=app, actor=user)
    app.refresh_from_db()
    assert app.status == "draft"


def test_withdraw_refused_for_outsider(make_app, outsider, owner):
    app = make_app()
    with pytest.raises(NotAllowed):
        services.application_withdraw(application=app, actor=outsider)
    app.refresh_from_db()
    assert app.status == "draft"
    services.application_withdraw(application=app, actor=owner)
    app.refresh_from_db()
    assert app.status == "withdrawn"
    with pytest.raises(InvalidState):
        services.application_withdraw(application=app, actor=owner)


def test_demo_seeder_idempotent(customer, product_version, owner):
    from credo.core.demo import DemoContext
    from credo.origination.demo import seed_demo_applications

    lines = []
    ctx = DemoContext(users={}, org={}, out=lines.append)
    seed_demo_applications(ctx)
    assert Application.objects.count() == 1 and "1 draft" in lines[-1]
    seed_demo_applications(ctx)
    assert Application.objects.count() == 1 and "skipped" in lines[-1]


def test_answer_refused_for_outsider_and_wrong_state(make_app, owner, outsider):
    app = make_app()
    with pytest.raises(NotAllowed):
        services.application_answer(application=app, actor=outsider, answer="x")
    with pytest.raises(InvalidState):
        services.application_answer(application=app, actor=owner, answer="x")
    app.refresh_from_db()
    assert app.status == "draft"


def test_portal_link_used_up_by_submission(make_app, owner, complete, monkeypatch):
    from credo.origination.errors import InvalidState as _IS

    app = complete(make_app())
    _link, token = services.portal_link_create(application=app, actor=owner)
    # approvals has no approvers configured here → the submission is refused, link still usable
    with pytest.raises(_IS):
        services.portal_submit(token=token)
    services.portal_resolve(token)
    monkeypatch.setattr(submission, "_approvals", lambda: None)
    services.portal_submit(token=token)
    with pytest.raises(PortalLinkInvalid) as err:
        services.portal_resolve(token)
    assert err.value.status == 410 and "已使用" in err.value.message
    with pytest.raises(PortalLinkInvalid):
        services.portal_upload(token=token, item="营业执照", name="a.pdf", data=PDF)
    assert Document.objects.count() == 2


def test_denial_inside_a_transactional_service_stays_audited(make_app, outsider, staff_perms):
    """The refusal is audited after the service's transaction rolled back (it used to vanish
    with it)."""
    from credo.core.audit.models import AuditEntry
    from credo.origination.errors import NotAllowed

    app = make_app()
    for call in (
        lambda: services.application_withdraw(application=app, actor=outsider, reason="x"),
        lambda: services.application_answer(application=app, actor=outsider, answer="x"),
        lambda: services.notice_issue(application=app, actor=outsider),
    ):
        with pytest.raises(NotAllowed):
            call()
    denied = AuditEntry.objects.filter(action="application.denied", actor_id=outsider.pk)
    assert denied.count() == 3
    app.refresh_from_db()
    assert app.status == "draft"
