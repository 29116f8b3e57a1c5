"""Contacts and relations between customers."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.customers.errors import (
    CustomerError,
    InvalidCustomer,
)
from credo.customers.events import record_event
from credo.customers.models import Contact, Customer, Relation


@transaction.atomic
def contact_add(
    *,
    customer: Customer,
    actor: Any,
    name: str,
    title: str = "",
    phone: str = "",
    is_primary: bool = False,
) -> Contact:
    from credo.core.validators import normalize_phone, validate_phone

    name = (name or "").strip()
    if not name:
        raise InvalidCustomer(_("请填写联系人姓名。"), field_errors={"name": _("必填")})
    phone = normalize_phone(phone)
    if phone:
        try:
            validate_phone(phone)
        except ValidationError as exc:
            raise InvalidCustomer(
                str(exc.messages[0]), field_errors={"phone": exc.messages[0]}
            ) from None
    if is_primary:
        customer.contacts.update(is_primary=False)
    contact = Contact.objects.create(
        customer=customer,
        name=name[:60],
        title=(title or "")[:60],
        phone=phone,
        is_primary=is_primary,
    )
    audit_record(
        action="customer.contact_add",
        actor=actor,
        obj=customer,
        metadata={"contact_id": contact.pk, "name": contact.name},
    )
    record_event(
        customer=customer,
        kind="contact",
        actor=actor,
        obj=contact,
        source="customers",
        title=_("新增联系人：%(name)s") % {"name": contact.name},
    )
    return contact


SPOUSE_KINDS = {Relation.Kind.SPOUSE}
PERSON_ONLY_FROM = {Relation.Kind.SPOUSE, Relation.Kind.LEGAL_REPRESENTATIVE}


@transaction.atomic
def relation_add(
    *,
    from_customer: Customer,
    to_customer: Customer,
    kind: str,
    actor: Any,
    share_pct: Any = None,
    note: str = "",
) -> Relation:
    if kind not in Relation.Kind.values:
        raise InvalidCustomer(_("未知的关联关系类型。"), field_errors={"kind": _("无效")})
    if from_customer.pk == to_customer.pk:
        raise InvalidCustomer(_("不能与自己建立关联关系。"))
    if kind in PERSON_ONLY_FROM and from_customer.kind != Customer.Kind.INDIVIDUAL:
        raise InvalidCustomer(_("法定代表人/配偶必须是个人客户。"), field_errors={"kind": ""})
    if kind == Relation.Kind.SPOUSE and to_customer.kind != Customer.Kind.INDIVIDUAL:
        raise InvalidCustomer(_("配偶关系只能存在于两个个人客户之间。"))
    pct: Decimal | None = None
    if kind == Relation.Kind.SHAREHOLDER:
        try:
            pct = Decimal(str(share_pct)).quantize(Decimal("0.001"))
        except (InvalidOperation, ValueError, TypeError):
            raise InvalidCustomer(
                _("股东关系需要填写持股比例（0–100）。"), field_errors={"share_pct": _("无效")}
            ) from None
        if not Decimal(0) < pct <= Decimal(100):
            raise InvalidCustomer(
                _("持股比例应大于 0 且不超过 100。"), field_errors={"share_pct": _("无效")}
            )
        held = sum(
            (r.share_pct or Decimal(0))
            for r in Relation.objects.select_for_update()
            .filter(to_customer=to_customer, kind=Relation.Kind.SHAREHOLDER)
            .exclude(from_customer=from_customer)
        )
        if held + pct > 100:
            raise InvalidCustomer(
                _("股东持股比例合计将超过 100%%（已登记 %(held)s%%）。") % {"held": held},
                field_errors={"share_pct": _("超出")},
            )
    relation, created = Relation.objects.get_or_create(
        from_customer=from_customer,
        to_customer=to_customer,
        kind=kind,
        defaults={"share_pct": pct, "note": (note or "")[:200], "created_by": actor},
    )
    if not created:
        raise CustomerError(_("该关联关系已存在。"))
    audit_record(
        action="customer.relation_add",
        actor=actor,
        obj=relation,
        changes={"kind": [None, kind], "share_pct": [None, pct]},
    )
    title = _("%(a)s 为 %(b)s 的%(kind)s") % {
        "a": from_customer.name,
        "b": to_customer.name,
        "kind": relation.get_kind_display(),
    }
    for side in (from_customer, to_customer):
        record_event(
            customer=side,
            kind="relation",
            title=title,
            actor=actor,
            obj=relation,
            source="customers",
        )
    return relation


@transaction.atomic
def relation_remove(*, relation: Relation, actor: Any) -> None:
    title = _("解除关联：%(rel)s") % {"rel": relation}
    audit_record(action="customer.relation_remove", actor=actor, obj=relation)
    for side in (relation.from_customer, relation.to_customer):
        record_event(customer=side, kind="relation", title=title, actor=actor, source="customers")
    relation.delete()
