"""Contacts under the compliance guardrails, what a third party may be told, do-not-contact."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.collections import guardrails
from credo.collections.errors import GuardrailViolation, InvalidInput, InvalidState
from credo.collections.models import (
    Channel,
    CollectionCase,
    ComplianceLog,
    ContactAttempt,
    DoNotContact,
    Outcome,
    Party,
)
from credo.core.audit.services import audit_record
from credo.customers.events import record_event
from credo.customers.models import Contact, Customer, CustomerEvent

THIRD_PARTY_TEMPLATE = "{contact_name}，您好：请转告{name}尽快与我司联系，谢谢。"


def third_party_message(*, case: CollectionCase, contact_name: str) -> str:
    """The only text a third party receives: names, never debt details."""
    return THIRD_PARTY_TEMPLATE.format(contact_name=contact_name, name=case.customer.name)


# --- contacts under guardrails -------------------------------------------------------------------
def contact_targets(case: CollectionCase) -> list[dict[str, Any]]:
    """The people a collector may contact: the borrower, then third parties (contacts and
    related customers such as guarantors)."""
    from credo.customers.models import Relation

    customer = case.customer
    out: list[dict[str, Any]] = [
        {
            "party": Party.BORROWER,
            "key": "borrower",
            "name": customer.name,
            "title": _("借款人"),
            "phone": customer.phone,
            "phone_key": customer.phone_bidx or "",
            "contact_id": None,
        }
    ]
    for c in Contact.objects.filter(customer=customer):
        out.append(
            {
                "party": Party.THIRD_PARTY,
                "key": f"contact:{c.pk}",
                "name": c.name,
                "title": c.title,
                "phone": c.phone,
                "phone_key": c.phone_bidx or "",
                "contact_id": c.pk,
            }
        )
    rels = Relation.objects.filter(to_customer=customer).select_related("from_customer")
    for r in rels:
        other = r.from_customer
        out.append(
            {
                "party": Party.THIRD_PARTY,
                "key": f"customer:{other.pk}",
                "name": other.name,
                "title": r.get_kind_display(),
                "phone": other.phone,
                "phone_key": other.phone_bidx or "",
                "contact_id": None,
            }
        )
    return out


def _target(case: CollectionCase, target: str) -> dict[str, Any]:
    for t in contact_targets(case):
        if t["key"] == target:
            return t
    raise InvalidInput(_("联系对象不存在。"))


def _refuse(
    *,
    case: CollectionCase,
    rule: str,
    message: str,
    channel: str,
    party: str,
    now: dt.datetime,
    actor: Any,
    detail: dict[str, Any],
) -> GuardrailViolation:
    """Log a refused attempt in its own transaction (it must survive the refusal)."""
    with transaction.atomic():
        entry = ComplianceLog.objects.create(
            case=case,
            rule=rule,
            message=message,
            channel=channel,
            party=party,
            attempted_at=now,
            detail=detail,
            actor=actor,
        )
        audit_record(
            action="collections.blocked",
            actor=actor,
            obj=case,
            metadata={"rule": rule, "channel": channel, "party": party, "log": entry.pk},
        )
    return GuardrailViolation(message, rule=rule)


def contact_log(
    *,
    case: CollectionCase,
    target: str,
    channel: str,
    outcome: str,
    notes: str = "",
    actor: Any,
    now: dt.datetime | None = None,
) -> ContactAttempt:
    """Record a contact attempt (one-click dial log). Guardrails are checked first; a refused
    attempt is logged (ComplianceLog + audit ``collections.blocked``) and raises."""
    now = now or timezone.now()
    if channel not in Channel.values:
        raise InvalidInput(_("未知的联系方式。"))
    if outcome not in Outcome.values:
        raise InvalidInput(_("未知的联系结果。"))
    if not case.is_open:
        raise InvalidState(_("案件已结案，不能再登记联系。"))
    tgt = _target(case, target)
    if outcome == Outcome.RELAYED and tgt["party"] != Party.THIRD_PARTY:
        raise InvalidInput(_("“第三方转告”只适用于第三方联系人。"))
    # Check and write under a lock on the customer: two collectors dialling the same borrower
    # at once cannot both slip under the daily cap.
    with transaction.atomic():
        Customer.objects.select_for_update().filter(pk=case.customer_id).first()
        refusal = guardrails.check(
            case=case, channel=channel, party=tgt["party"], phone_key=tgt["phone_key"], now=now
        )
        if refusal is None:
            return _contact_write(
                case=case,
                tgt=tgt,
                channel=channel,
                outcome=outcome,
                notes=notes,
                actor=actor,
                now=now,
            )
    raise _refuse(
        case=case,
        rule=refusal.rule,
        message=refusal.message,
        channel=channel,
        party=tgt["party"],
        now=now,
        actor=actor,
        detail={"target": target},
    )


@transaction.atomic
def _contact_write(
    *,
    case: CollectionCase,
    tgt: dict[str, Any],
    channel: str,
    outcome: str,
    notes: str,
    actor: Any,
    now: dt.datetime,
) -> ContactAttempt:
    case = CollectionCase.objects.select_for_update().get(pk=case.pk)
    attempt = ContactAttempt.objects.create(
        case=case,
        channel=channel,
        party=tgt["party"],
        contact_id=tgt["contact_id"],
        party_name=tgt["name"],
        phone_key=tgt["phone_key"],
        outcome=outcome,
        notes=notes,
        attempted_at=now,
        local_date=guardrails.local(now).date(),
        actor=actor,
    )
    case.last_contact_at = now
    case.save(update_fields=["last_contact_at", "updated_at"])
    if channel == Channel.SMS and tgt["party"] == Party.THIRD_PARTY:
        # What the third party is told: no amount, no loan, no overdue status.
        attempt.notes = (notes + "\n" if notes else "") + third_party_message(
            case=case, contact_name=tgt["name"]
        )
        attempt.save(update_fields=["notes"])
    record_event(
        customer=case.customer,
        kind=CustomerEvent.Kind.COLLECTION,
        title=_("催收联系：%(ch)s %(p)s（%(n)s）— %(o)s")
        % {
            "ch": Channel(channel).label,
            "p": Party(tgt["party"]).label,
            "n": tgt["name"],
            "o": Outcome(outcome).label,
        },
        actor=actor,
        source="collections",
        obj=case,
        detail={
            "case": case.pk,
            "attempt": attempt.pk,
            "channel": channel,
            "party": tgt["party"],
            "outcome": outcome,
        },
    )
    audit_record(
        action="collections.contact",
        actor=actor,
        obj=attempt,
        metadata={"case": case.pk, "channel": channel, "outcome": outcome},
    )
    return attempt


@transaction.atomic
def dnc_create(*, case: CollectionCase, target: str, reason: str, actor: Any) -> DoNotContact:
    """Record a do-not-contact request (``target="all"`` = every number of the customer)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(_("请填写拒绝联系的原因。"))
    phone_key, masked = "", ""
    if target != "all":
        tgt = _target(case, target)
        if not tgt["phone_key"]:
            raise InvalidInput(_("该联系人没有电话号码。"))
        phone_key = tgt["phone_key"]
        phone = tgt["phone"] or ""
        masked = (phone[:3] + "****" + phone[-4:]) if len(phone) >= 7 else "****"
    dnc = DoNotContact.objects.create(
        customer_id=case.customer_id,
        phone_key=phone_key,
        phone_masked=masked,
        reason=reason[:200],
        actor=actor,
    )
    record_event(
        customer=case.customer,
        kind=CustomerEvent.Kind.COLLECTION,
        title=_("登记拒绝联系：%(r)s") % {"r": reason[:100]},
        actor=actor,
        source="collections",
        obj=case,
        detail={"case": case.pk, "dnc": dnc.pk},
    )
    audit_record(
        action="collections.do_not_contact",
        actor=actor,
        obj=dnc,
        metadata={"case": case.pk, "scope": "all" if not phone_key else "phone"},
    )
    return dnc
