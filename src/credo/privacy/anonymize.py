"""Anonymization of a customer or a lead (个人信息保护法 第四十七条 删除).

What is personal is overwritten in place, so every reference stays valid: loans, postings, the
ledger and the audit chain are untouched (``credo ledger verify`` and ``credo audit verify``
stay green). Names become a pseudonym (``已删除客户#<id>``), identifiers and contact data
become empty — their blind indexes follow (an empty value indexes as ""), so the unique
identifier constraint never collides —, stored documents are deleted from storage with their
rows, bureau payloads and message bodies are blanked. The audit rows written here carry the
object reference and which fields were cleared, never a value.

Audit rows written *before* the deletion are append-only and hash-chained; they were written
with sensitive values masked (``core.audit`` masks every registered sensitive field), but their
``object_repr`` may carry a name: the chain cannot be rewritten, and docs/privacy.md says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from credo.collections.models import ContactAttempt, LawyerLetter
from credo.core.audit.services import audit_record
from credo.customers.models import Authorization, Contact, Customer, CustomerEvent, ExternalPull
from credo.leads.models import FollowUp, Lead
from credo.notify.models import MarketingConsent, Message, NotifyPreference
from credo.origination import documents as doc_storage
from credo.origination.models import Application, Document

REDACTED = "已删除"


def customer_pseudonym(pk: int) -> str:
    return f"已删除客户#{pk}"


def lead_pseudonym(pk: int) -> str:
    return f"已删除线索#{pk}"


@dataclass
class Anonymized:
    """What one anonymization changed (counts, for the request outcome and the audit)."""

    customers: list[int] = field(default_factory=list)
    leads: list[int] = field(default_factory=list)
    contacts: int = 0
    documents: int = 0
    files_removed: int = 0
    bureau_payloads: int = 0
    messages: int = 0
    events: int = 0
    follow_ups: int = 0
    collection_notes: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def remove_documents(doc_qs: Any, result: Anonymized) -> None:
    """Delete stored files after commit (a rollback must not lose a file still referenced),
    and their rows now."""
    stored = list(doc_qs.values_list("stored_name", flat=True))
    result.documents += len(stored)
    doc_qs.delete()

    def _remove() -> None:
        for name in stored:
            doc_storage.remove(name)

    result.files_removed += len(stored)
    transaction.on_commit(_remove)


def anonymize_lead(lead: Lead, *, actor: Any, result: Anonymized | None = None) -> Anonymized:
    result = result or Anonymized()
    with transaction.atomic():
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        locked.name = lead_pseudonym(locked.pk)
        locked.contact_name = ""
        locked.phone = ""
        locked.uscc = ""
        locked.note = ""
        locked.custom = {}
        if locked.stage == Lead.Stage.LOST:
            locked.lost_reason = REDACTED
        locked.save(
            update_fields=[
                "name",
                "contact_name",
                "phone",
                "phone_bidx",
                "uscc",
                "note",
                "custom",
                "lost_reason",
                "updated_at",
            ]
        )
        result.follow_ups += FollowUp.objects.filter(lead=locked).update(
            outcome=REDACTED, notes="", next_step=""
        )
        MarketingConsent.objects.filter(lead_id=locked.pk).update(note="")
        result.leads.append(locked.pk)
        audit_record(
            action="privacy.anonymize_lead",
            actor=actor,
            object_type="leads.lead",
            object_id=locked.pk,
            object_repr=lead_pseudonym(locked.pk),
            metadata={"cleared": ["name", "contact_name", "phone", "uscc", "note", "custom"]},
        )
    return result


def anonymize_customer(customer: Customer, *, actor: Any) -> Anonymized:
    """Anonymize the customer, its contacts, its leads, documents, bureau payloads and
    messages, in one transaction (customer row locked first: level 2 of the lock order)."""
    result = Anonymized()
    with transaction.atomic():
        c = Customer.objects.select_for_update(of=("self",)).get(pk=customer.pk)
        c.name = customer_pseudonym(c.pk)
        c.id_number = ""
        c.phone = ""
        c.bank_account = ""
        c.uscc = ""
        c.legal_representative = ""
        c.employer = ""
        c.address = ""
        c.custom = {}
        c.version += 1
        c.save(
            update_fields=[
                "name",
                "id_number",
                "id_number_bidx",
                "phone",
                "phone_bidx",
                "bank_account",
                "bank_account_bidx",
                "uscc",
                "legal_representative",
                "employer",
                "address",
                "custom",
                "version",
                "updated_at",
            ]
        )
        result.customers.append(c.pk)
        result.contacts = Contact.objects.filter(customer=c).update(
            name=REDACTED, title="", phone="", phone_bidx=""
        )
        result.events = CustomerEvent.objects.filter(customer=c).update(detail={})
        result.bureau_payloads = ExternalPull.objects.filter(customer=c).update(
            raw_payload="", parsed={}
        )
        for auth in Authorization.objects.filter(customer=c):
            if auth.document:
                auth.document.delete(save=False)
            auth.granted_by = REDACTED
            auth.save(update_fields=["granted_by", "document"])
        remove_documents(Document.objects.filter(application__customer=c), result)
        Application.objects.filter(customer=c).update(return_answer="", custom={})
        result.messages = Message.objects.filter(customer=c).update(
            address="", address_masked="", subject=REDACTED, body=REDACTED, params={}
        )
        NotifyPreference.objects.filter(customer=c).update(email="", mobile="")
        # Collection evidence is only reached once no loan is open and its retention ended.
        result.collection_notes = ContactAttempt.objects.filter(case__customer=c).update(
            party_name="", notes=""
        )
        LawyerLetter.objects.filter(case__customer=c).update(pdf=None)
        MarketingConsent.objects.filter(customer=c).update(note="")
        for lead in Lead.objects.filter(customer=c):
            anonymize_lead(lead, actor=actor, result=result)
        audit_record(
            action="privacy.anonymize_customer",
            actor=actor,
            object_type="customers.customer",
            object_id=c.pk,
            object_repr=customer_pseudonym(c.pk),
            metadata={
                "cleared": [
                    "name",
                    "id_number",
                    "phone",
                    "bank_account",
                    "uscc",
                    "legal_representative",
                    "employer",
                    "address",
                    "custom",
                ],
                **{k: v for k, v in result.as_dict().items() if k not in ("customers",)},
            },
        )
    return result
