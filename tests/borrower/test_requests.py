"""Early-repayment and renewal requests (borrower files, staff decide), statement PDF,
repayment instructions, contract download, document upload, and the request state machine."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from credo.borrower import states
from credo.borrower.errors import InvalidInput, InvalidState, NotAllowed
from credo.borrower.models import BorrowerRequest
from credo.borrower.services import request_decide
from credo.core.audit.models import AuditEntry
from credo.lending.models import Loan
from tests.borrower.conftest import PHONE_A, borrower_login
from tests.fsm_tables import assert_table

pytestmark = pytest.mark.django_db
S = BorrowerRequest.Status


def test_request_state_machine():
    assert_table(
        states.REQUEST,
        S.values,
        [(S.SUBMITTED, S.ACCEPTED), (S.SUBMITTED, S.REJECTED)],
    )


@pytest.fixture
def reviewer_perms(manager_role):
    manager_role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="borrower",
            codename__in=["review_borrowerrequest", "view_borrowerrequest"],
        )
    )
    return manager_role


def test_prepay_quote_and_request(client, cust_a, loan_a):
    borrower_login(client, cust_a, PHONE_A)
    r = client.get(f"/b/loans/{loan_a.pk}/prepay/", {"quote": "1", "amount": ""})
    html = r.content.decode()
    assert r.status_code == 200 and 'id="b-payoff"' in html
    r = client.post(f"/b/loans/{loan_a.pk}/prepay/", {"amount": "", "note": "想结清"})
    assert r.status_code == 302
    req = BorrowerRequest.objects.get()
    assert req.kind == "prepay" and req.loan_id == loan_a.pk and req.amount is None
    assert req.status == "submitted" and req.number.startswith("BR")
    assert req.quote["payoff_amount"] and req.quote["loan"] == loan_a.number
    row = AuditEntry.objects.get(action="borrower.request_submit")
    assert row.actor_id is None and row.metadata["customer_ids"] == [cust_a.pk]
    # read-only: nothing posted on the loan
    assert Loan.objects.get(pk=loan_a.pk).outstanding_principal == loan_a.outstanding_principal
    assert not loan_a.postings.exists()
    # a second request for the same loan while the first is open is refused, nothing written
    r = client.post(f"/b/loans/{loan_a.pk}/prepay/", {"amount": ""})
    assert r.status_code == 409 and "已有待处理" in r.content.decode()
    assert BorrowerRequest.objects.count() == 1


def test_partial_prepay_amount_is_checked(client, cust_a, loan_a):
    borrower_login(client, cust_a, PHONE_A)
    r = client.post(f"/b/loans/{loan_a.pk}/prepay/", {"amount": "99999999"})
    assert r.status_code == 200 and "超过结清金额" in r.content.decode()
    r = client.post(f"/b/loans/{loan_a.pk}/prepay/", {"amount": "abc"})
    assert "金额格式不正确" in r.content.decode()
    assert not BorrowerRequest.objects.exists()
    r = client.post(f"/b/loans/{loan_a.pk}/prepay/", {"amount": "20000"})
    assert r.status_code == 302
    assert BorrowerRequest.objects.get().amount.fen == 2_000_000


def test_staff_reviews_requests_in_their_scope(
    client, cust_a, loan_a, owner, outsider, reviewer_perms
):
    borrower_login(client, cust_a, PHONE_A)
    client.post(f"/b/loans/{loan_a.pk}/prepay/", {"amount": ""})
    req = BorrowerRequest.objects.get()
    staff = type(client)()
    staff.force_login(owner)
    r = staff.get("/borrower-requests/")
    assert r.status_code == 200 and req.number in r.content.decode()
    other = type(client)()
    other.force_login(outsider)
    assert req.number not in other.get("/borrower-requests/").content.decode()
    assert other.get(f"/borrower-requests/{req.pk}/").status_code == 404
    with pytest.raises(NotAllowed):
        request_decide(request=req, actor=outsider, accept=True)
    r = staff.post(f"/borrower-requests/{req.pk}/decide/", {"decision": "reject", "note": ""})
    req.refresh_from_db()
    assert req.status == "submitted"  # a rejection needs a reason
    r = staff.post(f"/borrower-requests/{req.pk}/decide/", {"decision": "accept", "note": "已联系"})
    assert r.status_code == 302
    req.refresh_from_db()
    assert req.status == "accepted" and req.decided_by == owner
    assert AuditEntry.objects.filter(action="borrower.request_accept", actor_id=owner.pk).exists()
    with pytest.raises(InvalidState):
        request_decide(request=req, actor=owner, accept=False, note="x")
    # the borrower sees the outcome
    assert "已受理" in client.get("/b/").content.decode()


def test_staff_without_permission_cannot_open_the_list(client, owner):
    client.force_login(owner)
    assert client.get("/borrower-requests/").status_code == 403


def test_renewal_for_a_current_borrower(client, cust_a, loan_a):
    borrower_login(client, cust_a, PHONE_A)
    assert client.get("/b/renewal/").status_code == 200
    r = client.post(
        "/b/renewal/", {"customer": cust_a.pk, "amount": "150000", "months": "12", "note": "经营"}
    )
    assert r.status_code == 302
    req = BorrowerRequest.objects.get(kind="renewal")
    assert req.amount.fen == 15_000_000 and req.months == 12
    r = client.post("/b/renewal/", {"customer": cust_a.pk, "amount": "1", "months": "12"})
    assert r.status_code == 409 and "已有待处理的续贷申请" in r.content.decode()


def test_renewal_refused_with_overdue_installments(client, cust_a, loan_a):
    import datetime as dt

    loan_a.installments.filter(period=1).update(due_date=dt.date.today() - dt.timedelta(days=3))
    borrower_login(client, cust_a, PHONE_A)
    html = client.get("/b/renewal/").content.decode()
    assert "存在逾期未还款项" in html and "b-renewal-form" not in html
    client.post("/b/renewal/", {"customer": cust_a.pk, "amount": "1000", "months": "12"})
    assert not BorrowerRequest.objects.exists()


def test_renewal_for_another_customer_is_404(client, cust_a, cust_b, loan_a, loan_b):
    borrower_login(client, cust_a, PHONE_A)
    r = client.post("/b/renewal/", {"customer": cust_b.pk, "amount": "1000", "months": "12"})
    assert r.status_code == 404


def test_statement_pdf(client, cust_a, loan_a):
    borrower_login(client, cust_a, PHONE_A)
    r = client.get(f"/b/loans/{loan_a.pk}/statement.pdf")
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")
    assert AuditEntry.objects.filter(action="borrower.statement_download").count() == 1


def test_repayment_instructions_with_qr(client, cust_a, loan_a, settings):
    settings.CREDO_BORROWER_REPAY_ACCOUNT_NAME = "示例小额贷款有限公司"
    settings.CREDO_BORROWER_REPAY_BANK = "中国工商银行太原分行"
    settings.CREDO_BORROWER_REPAY_ACCOUNT_NO = "0502 1234 5678 9012"
    settings.CREDO_BORROWER_REPAY_QR = "https://pay.example.cn/lender"
    borrower_login(client, cust_a, PHONE_A)
    html = client.get("/b/repay/").content.decode()
    assert "0502 1234 5678 9012" in html and loan_a.number in html
    assert 'src="data:image/svg+xml;base64,' in html
    settings.CREDO_BORROWER_REPAY_QR = ""
    assert "b-repay-qr" not in client.get("/b/repay/").content.decode()


def test_payment_history(client, cust_a, loan_a, finance):
    import datetime as dt

    from credo.core.money import Money
    from credo.lending import services

    services.repayment_post(
        loan=loan_a, amount=Money("1234.56"), received_on=dt.date.today(), actor=finance
    )
    borrower_login(client, cust_a, PHONE_A)
    assert "1,234.56" in client.get("/b/payments/").content.decode()


def test_contract_download_is_owner_only(client, cust_a, cust_b, owner):
    from credo.contracts.models import Contract
    from credo.contracts.rendering import store_pdf
    from credo.contracts.services import template_current

    rel, sha = store_pdf(b"%PDF-1.4 test")
    tpl = template_current("loan")

    def make(customer, number, status):
        return Contract.objects.create(
            number=number,
            subject_type="test",
            subject_id="1",
            customer=customer,
            template=tpl,
            html="<p>x</p>",
            pdf_path=rel,
            pdf_sha256=sha,
            status=status,
            created_by=owner,
        )

    mine = make(cust_a, "HT202601010001", "sent")
    theirs = make(cust_b, "HT202601010002", "signed")
    borrower_login(client, cust_a, PHONE_A)
    html = client.get("/b/contracts/").content.decode()
    assert mine.number in html and theirs.number not in html and "电子签" in html
    r = client.get(f"/b/contracts/{mine.pk}/pdf/")
    assert r.status_code == 200 and r.content == b"%PDF-1.4 test"
    assert client.get(f"/b/contracts/{theirs.pk}/pdf/").status_code == 404
    row = AuditEntry.objects.get(action="contracts.pdf_download")
    assert row.actor_id is None and row.metadata["via"] == "borrower"


def test_document_upload_to_an_open_application(
    client, cust_a, cust_b, owner, outsider, manager_role, product_version
):
    from credo.core.money import Money
    from credo.origination.services import application_create
    from tests.factories import png_bytes

    manager_role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="origination", codename__in=["add_application"]
        )
    )
    product_version.required_documents = ["身份证"]
    product_version.save(update_fields=["required_documents"])

    def make(customer, actor):
        return application_create(
            customer=customer,
            product_version=product_version,
            amount=Money("100000"),
            months=12,
            purpose="经营周转",
            actor=actor,
        )

    mine, theirs = make(cust_a, owner), make(cust_b, outsider)
    borrower_login(client, cust_a, PHONE_A)
    assert mine.number in client.get("/b/").content.decode()
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("id.png", png_bytes(), content_type="image/png")
    r = client.post(f"/b/applications/{mine.pk}/", {"item": "身份证", "file": upload})
    assert r.status_code == 302
    doc = mine.documents.get()
    assert doc.via == "portal" and doc.uploaded_by is None
    assert AuditEntry.objects.filter(action="borrower.document_upload").count() == 1
    bad = SimpleUploadedFile("id.png", b"not an image", content_type="image/png")
    client.post(f"/b/applications/{mine.pk}/", {"item": "身份证", "file": bad})
    assert mine.documents.count() == 1
    assert AuditEntry.objects.filter(action="document.upload_refused").count() == 1
    assert client.get(f"/b/applications/{theirs.pk}/").status_code == 404
    upload = SimpleUploadedFile("id.png", png_bytes(), content_type="image/png")
    r = client.post(f"/b/applications/{theirs.pk}/", {"item": "身份证", "file": upload})
    assert r.status_code == 404 and not theirs.documents.exists()


def test_service_refuses_a_loan_of_another_borrower(cust_a, loan_b):
    from django.utils import timezone

    from credo.borrower.models import BorrowerSession
    from credo.borrower.services import Borrower, prepay_quote

    now = timezone.now()
    session = BorrowerSession.objects.create(
        token_hash="x",
        phone_bidx="y",
        customer_ids=[cust_a.pk],
        created_at=now,
        last_seen_at=now,
        expires_at=now,
    )
    with pytest.raises(NotAllowed):
        prepay_quote(borrower=Borrower(session=session, customer_ids=[cust_a.pk]), loan=loan_b)
    _ = InvalidInput
