# ruff: noqa: F811  (pytest fixtures imported by name)
"""Data-subject requests: due date in working days, the officer-only rule, the access copy,
deletion now or held for the retention period and executed later by the nightly task, with
the ledger and the audit chain verifying afterwards."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from django.core.management import call_command

from credo.core.audit.models import AuditEntry
from credo.core.holidays.calendar import WorkingCalendar, forget_calendar
from credo.core.models import Holiday
from credo.core.money import Money
from credo.customers.models import Contact, Customer
from credo.customers.services import contact_add
from credo.leads.models import Lead
from credo.lending import services as lending
from credo.lending.models import Installment, Loan
from credo.notify.models import MarketingConsent
from credo.privacy import anonymize, services
from credo.privacy.calendar import add_working_days
from credo.privacy.errors import NotPermitted
from credo.privacy.models import DataSubjectRequest, LegalHold, RetentionRun
from tests.lending.conftest import (  # noqa: F401  (fixtures)
    VALUE_DATE,
    borrower,
    finance,
    make_loan,
    product_version,
)

pytestmark = pytest.mark.django_db

S = DataSubjectRequest.Status


# --- due date ----------------------------------------------------------------------------------
def test_working_days_skip_weekends_and_holidays_and_count_make_up_days():
    cal = WorkingCalendar.of(
        holidays=[dt.date(2026, 10, d) for d in range(1, 9)],  # 国庆 10-01..10-08
        workdays=[dt.date(2026, 9, 27), dt.date(2026, 10, 10)],  # 调休上班 (Sun, Sat)
    )
    # received Fri 2026-09-25: Sun 09-27 works, 09-28..09-30 work, holiday to 10-08,
    # 10-09 Fri, 10-10 Sat works, then Mon 10-12 … the 15th is Thu 10-22
    assert add_working_days(dt.date(2026, 9, 25), 1, cal) == dt.date(2026, 9, 27)
    assert add_working_days(dt.date(2026, 9, 25), 15, cal) == dt.date(2026, 10, 22)
    # no calendar entries: plain Mon–Fri; 15 working days = 3 weeks
    assert add_working_days(dt.date(2026, 3, 2), 15, WorkingCalendar()) == dt.date(2026, 3, 23)
    assert add_working_days(dt.date(2026, 3, 2), 0, WorkingCalendar()) == dt.date(2026, 3, 2)


def test_request_due_date_uses_the_lenders_holiday_table(officer, person):
    Holiday.objects.all().delete()
    Holiday.objects.create(date=dt.date(2026, 3, 4), year=2026, kind="holiday", name="测试假日")
    forget_calendar()
    req = services.request_create(
        actor=officer, kind="access", customer=person, received_on=dt.date(2026, 3, 2)
    )
    assert req.due_on == dt.date(2026, 3, 24)  # one working day later than without it
    assert req.status == S.RECEIVED
    assert "王小明" not in req.subject_label and f"客户#{person.pk}" in req.subject_label
    row = AuditEntry.objects.get(action="privacy.request_create", object_id=str(req.pk))
    assert "王小明" not in json.dumps(row.metadata, ensure_ascii=False) + row.object_repr


def test_only_the_privacy_officer_handles_requests(owner, person):
    with pytest.raises(NotPermitted):
        services.request_create(actor=owner, kind="access", customer=person)
    assert not DataSubjectRequest.objects.exists()


def test_admin_role_gets_the_privacy_permissions(officer):
    from credo.accounts.models import Role

    for code in ("privacy_officer", "admin"):
        perms = {
            f"{p.content_type.app_label}.{p.codename}"
            for p in Role.objects.get(code=code).permissions.select_related("content_type")
        }
        assert {"privacy.handle_requests", "privacy.export_personal_data"} <= perms


# --- access ------------------------------------------------------------------------------------
def test_access_export_zip_has_json_and_pdf_and_is_audited(officer, owner, person):
    contact_add(customer=person, actor=owner, name="王大明", phone="13900001111")
    MarketingConsent.objects.create(customer=person, source="paper", granted_at=dt_aware())
    req = services.request_create(actor=officer, kind="access", customer=person)
    payload = services.request_export(actor=officer, request=req)
    zf = zipfile.ZipFile(io.BytesIO(payload))
    assert set(zf.namelist()) == {"personal_data.json", "personal_data.pdf", "README.txt"}
    data = json.loads(zf.read("personal_data.json"))
    assert data["customer"]["name"] == "王小明"
    assert data["customer"]["id_number"] == person.id_number  # the subject's own copy: clear
    assert "id_number_bidx" not in data["customer"]
    assert data["contacts"][0]["phone"] == "13900001111"
    assert len(data["consents"]) == 1
    assert zf.read("personal_data.pdf").startswith(b"%PDF")
    audit = AuditEntry.objects.get(action="privacy.request_export")
    assert "customer" in audit.metadata["sections"]
    assert person.id_number not in json.dumps(audit.metadata)
    services.request_complete(actor=officer, request=req, outcome="已交付副本")
    req.refresh_from_db()
    assert req.status == S.COMPLETED and req.handled_by == officer


def dt_aware():
    from django.utils import timezone

    return timezone.now()


# --- deletion ----------------------------------------------------------------------------------
def test_deletion_without_retention_basis_anonymizes_now(officer, owner, person):
    contact_add(customer=person, actor=owner, name="王大明", phone="13900001111")
    lead = Lead.objects.create(
        name="王小明",
        contact_name="王小明",
        phone="13900000007",
        source="walk_in",
        customer=person,
        stage="converted",
        created_by=owner,
    )
    id_number = person.id_number
    req = services.request_create(actor=officer, kind="deletion", customer=person)
    req = services.request_execute_deletion(actor=officer, request=req)
    assert req.status == S.COMPLETED
    c = Customer.objects.get(pk=person.pk)
    assert c.name == f"已删除客户#{person.pk}"
    assert (c.id_number, c.phone, c.bank_account, c.address) == ("", "", "", "")
    assert (c.id_number_bidx, c.phone_bidx, c.bank_account_bidx) == ("", "", "")
    contact = Contact.objects.get(customer=c)
    assert (contact.name, contact.phone, contact.phone_bidx) == ("已删除", "", "")
    lead.refresh_from_db()
    assert lead.name == f"已删除线索#{lead.pk}" and lead.phone == "" and lead.phone_bidx == ""
    # a new customer with the same ID number can be created again (the blind index is free)
    assert not Customer.objects.filter(id_number_bidx__gt="", pk=c.pk).exists()
    # no clear text in the audit rows this wrote
    for row in AuditEntry.objects.filter(action__startswith="privacy."):
        text = json.dumps([row.metadata, row.changes, row.object_repr], ensure_ascii=False)
        assert "王小明" not in text and id_number not in text and "13900001111" not in text


def test_open_loan_holds_the_deletion_with_the_reason(officer, borrower, make_loan):
    loan = make_loan()
    req = services.request_create(actor=officer, kind="deletion", customer=borrower)
    req = services.request_execute_deletion(actor=officer, request=req)
    assert req.status == S.HELD
    assert req.hold_basis == "open_loan" and loan.number in req.reason
    assert req.scheduled_on is None
    assert Customer.objects.get(pk=borrower.pk).name == borrower.name  # nothing deleted


def test_retention_period_holds_then_the_nightly_task_deletes(officer, borrower, make_loan):
    loan = make_loan()
    Loan.objects.filter(pk=loan.pk).update(status="paid_off", maturity_date=dt.date(2024, 6, 30))
    Installment.objects.filter(loan=loan).update(paid_on=dt.date(2024, 6, 30))
    req = services.request_create(
        actor=officer, kind="deletion", customer=borrower, received_on=dt.date(2026, 1, 5)
    )
    req = services.request_execute_deletion(actor=officer, request=req, today=dt.date(2026, 1, 5))
    assert req.status == S.HELD and req.hold_basis == "retention"
    assert req.scheduled_on == dt.date(2029, 6, 30)  # settled + 5 years
    assert "2024-06-30" in req.reason

    # the day before: the nightly run leaves it alone
    run = services.retention_run(actor=None, today=dt.date(2029, 6, 29))
    assert run.report["held_deletions"]["removed"] == 0
    assert DataSubjectRequest.objects.get(pk=req.pk).status == S.HELD

    # on the day: executed by the scheduled task
    run = services.retention_run(actor=None, today=dt.date(2029, 6, 30))
    assert run.report["held_deletions"]["ids"] == [req.pk]
    req.refresh_from_db()
    assert req.status == S.COMPLETED and req.completed_at is not None
    assert Customer.objects.get(pk=borrower.pk).name == f"已删除客户#{borrower.pk}"
    assert Loan.objects.filter(pk=loan.pk, customer=borrower).exists()  # the loan stays


def test_retention_years_is_configurable(settings, officer, borrower, make_loan):
    settings.CREDO_PRIVACY_RETENTION_YEARS = 2
    loan = make_loan()
    Loan.objects.filter(pk=loan.pk).update(status="paid_off", maturity_date=dt.date(2024, 6, 30))
    Installment.objects.filter(loan=loan).update(paid_on=dt.date(2024, 6, 30))
    req = services.request_create(actor=officer, kind="deletion", customer=borrower)
    req = services.request_execute_deletion(actor=officer, request=req, today=dt.date(2026, 7, 1))
    assert req.status == S.COMPLETED


def test_legal_hold_blocks_deletion(officer, person):
    LegalHold.objects.create(customer=person, reason="诉讼保全", placed_by=officer)
    req = services.request_create(actor=officer, kind="deletion", customer=person)
    req = services.request_execute_deletion(actor=officer, request=req)
    assert req.status == S.HELD and req.hold_basis == "legal_hold"
    assert Customer.objects.get(pk=person.pk).name == "王小明"


def test_anonymization_keeps_ledger_and_audit_verifying(officer, borrower, make_loan, finance):
    loan = lending.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    lending.repayment_post(
        loan=loan, amount=Money("10661.85"), received_on=dt.date(2026, 2, 15), actor=finance
    )
    anonymize.anonymize_customer(borrower, actor=officer)
    out = io.StringIO()
    call_command("ledger", "verify", stdout=out)
    assert "ledger OK" in out.getvalue()
    out = io.StringIO()
    call_command("audit", "verify", stdout=out)  # raises CommandError on a broken chain
    assert "rows verified" in out.getvalue()
    assert AuditEntry.objects.filter(action="privacy.anonymize_customer").count() == 1
    loan.refresh_from_db()
    assert loan.customer_id == borrower.pk and loan.outstanding_principal.fen > 0


def test_retention_policies_report_and_spare_legal_holds(officer, owner):
    from django.utils import timezone

    old = timezone.now() - dt.timedelta(days=800)
    a = Lead.objects.create(name="甲", phone="13900000001", source="walk_in", created_by=owner)
    b = Lead.objects.create(name="乙", phone="13900000002", source="walk_in", created_by=owner)
    fresh = Lead.objects.create(name="丙", source="walk_in", created_by=owner)
    Lead.objects.filter(pk__in=[a.pk, b.pk]).update(updated_at=old)
    LegalHold.objects.create(lead=b, reason="监管调查", placed_by=officer)
    run = services.retention_run(actor=officer)
    item = run.report["unconverted_leads"]
    assert item["ids"] == [a.pk] and item["skipped_held"] == 1
    assert Lead.objects.get(pk=a.pk).name.startswith("已删除线索#")
    assert Lead.objects.get(pk=b.pk).name == "乙"
    assert Lead.objects.get(pk=fresh.pk).name == "丙"
    assert set(run.report) >= {
        "held_deletions",
        "rejected_documents",
        "unconverted_leads",
        "bureau_reports",
        "import_files",
        "closed_customers",
    }
    assert RetentionRun.objects.count() == 1
    assert AuditEntry.objects.filter(action="privacy.retention_run").exists()


def test_deletion_of_a_lead(officer, owner):
    lead = Lead.objects.create(
        name="孙线索",
        contact_name="孙先生",
        phone="13900000099",
        source="walk_in",
        created_by=owner,
    )
    MarketingConsent.objects.create(lead_id=lead.pk, source="phone", granted_at=dt_aware())
    req = services.request_create(actor=officer, kind="deletion", lead=lead)
    assert f"线索#{lead.pk}" in req.subject_label and "孙线索" not in req.subject_label
    req = services.request_execute_deletion(actor=officer, request=req)
    assert req.status == S.COMPLETED
    lead.refresh_from_db()
    assert (lead.name, lead.contact_name, lead.phone) == (f"已删除线索#{lead.pk}", "", "")


def test_closed_customers_policy_respects_the_retention_period(
    officer, borrower, make_loan, person
):
    from django.utils import timezone

    loan = make_loan()
    Loan.objects.filter(pk=loan.pk).update(status="paid_off", maturity_date=dt.date(2024, 6, 30))
    old = timezone.now() - dt.timedelta(days=400)
    Customer.objects.filter(pk__in=[borrower.pk, person.pk]).update(status="closed", updated_at=old)
    run = services.retention_run(actor=officer, today=dt.date(2026, 12, 1))
    item = run.report["closed_customers"]
    assert item["ids"] == [person.pk] and item["kept_retention"] == 1
    assert Customer.objects.get(pk=borrower.pk).name == borrower.name
    assert Customer.objects.get(pk=person.pk).name == f"已删除客户#{person.pk}"


def test_a_request_held_for_an_open_loan_gets_its_date_once_the_loan_is_settled(
    officer, borrower, make_loan
):
    loan = make_loan()
    req = services.request_create(actor=officer, kind="deletion", customer=borrower)
    req = services.request_execute_deletion(actor=officer, request=req)
    assert req.hold_basis == "open_loan" and req.scheduled_on is None
    audits = AuditEntry.objects.filter(action="privacy.request_hold").count()
    services.retention_run(actor=None, today=dt.date(2026, 12, 1))  # still open: no new row
    assert AuditEntry.objects.filter(action="privacy.request_hold").count() == audits
    Loan.objects.filter(pk=loan.pk).update(status="paid_off", maturity_date=dt.date(2026, 11, 30))
    services.retention_run(actor=None, today=dt.date(2026, 12, 1))
    req.refresh_from_db()
    assert req.status == S.HELD and req.hold_basis == "retention"
    assert req.scheduled_on == dt.date(2031, 11, 30)
