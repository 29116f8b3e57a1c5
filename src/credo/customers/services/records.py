"""Creating and editing customer records; duplicates; reassignment to another 客户经理."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from credo.core.audit.services import audit_record
from credo.core.crypto import blind_index
from credo.core.customfields import engine as cf
from credo.customers.errors import (
    DuplicateCustomer,
    InvalidCustomer,
    StaleCustomer,
)
from credo.customers.events import record_event
from credo.customers.models import Customer
from credo.customers.profile import SENSITIVE_FIELDS, clean_profile

AUDITED_FIELDS = [
    "kind",
    "name",
    "uscc",
    "registered_capital",
    "industry",
    "legal_representative",
    "founded_on",
    "employer",
    "region_code",
    "address",
    "status",
    "risk_grade",
    "owner_id",
    "team_id",
    "branch_id",
]


def _field_label(name: str) -> str:
    return str(getattr(Customer._meta.get_field(name), "verbose_name", name))


def _snapshot(customer: Customer) -> dict[str, Any]:
    return {name: getattr(customer, name) for name in AUDITED_FIELDS}


def find_duplicate(
    *, kind: str, uscc: str = "", id_number: str = "", exclude_pk: int | None = None
) -> tuple[Customer | None, str]:
    qs = Customer.objects.all()
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if kind == Customer.Kind.ENTERPRISE and uscc:
        return qs.filter(uscc=uscc).first(), "uscc"
    if kind == Customer.Kind.INDIVIDUAL and id_number:
        return qs.filter(id_number_bidx=blind_index(id_number, kind="id_number")).first(), (
            "id_number"
        )
    return None, ""


def _duplicate_error(existing: Customer, field: str) -> DuplicateCustomer:
    label = _("统一社会信用代码") if field == "uscc" else _("身份证号")
    return DuplicateCustomer(
        _("该%(label)s已存在客户档案：%(name)s（编号 %(pk)s），请勿重复建档。")
        % {"label": label, "name": existing.name, "pk": existing.pk},
        existing=existing,
        field=field,
    )


def _owner_units(owner: Any) -> dict[str, Any]:
    return {"team": owner.team, "branch": owner.branch}


@transaction.atomic
def customer_create(
    *,
    actor: Any,
    data: Mapping[str, Any],
    owner: Any = None,
    custom: Mapping[str, Any] | None = None,
    source: str = "manual",
) -> Customer:
    """Create a profile from raw input. Duplicate identifier → :class:`DuplicateCustomer`."""
    values, errors = clean_profile(data)
    if errors:
        raise InvalidCustomer(_("客户资料有误，请检查标出的字段。"), field_errors=errors)
    existing, field = find_duplicate(
        kind=values["kind"], uscc=values.get("uscc", ""), id_number=values.get("id_number", "")
    )
    if existing is not None:
        raise _duplicate_error(existing, field)
    owner = owner or actor
    customer = Customer(**values, owner=owner, **_owner_units(owner), custom=dict(custom or {}))
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError:
        # Lost a race with a concurrent create of the same identifier.
        existing, field = find_duplicate(
            kind=values["kind"],
            uscc=values.get("uscc", ""),
            id_number=values.get("id_number", ""),
        )
        if existing is None:
            raise
        raise _duplicate_error(existing, field) from None
    audit_record(
        action="customer.create",
        actor=actor,
        obj=customer,
        changes={k: [None, v] for k, v in _snapshot(customer).items() if v not in (None, "")},
        metadata={
            "source": source,
            "sensitive_set": sorted(f for f in SENSITIVE_FIELDS if values.get(f)),
        },
    )
    record_event(
        customer=customer,
        kind="created",
        title=_("建立客户档案（%(source)s）") % {"source": source},
        actor=actor,
        obj=customer,
        source="customers",
    )
    return customer


@transaction.atomic
def customer_update(
    *,
    customer: Customer,
    actor: Any,
    data: Mapping[str, Any],
    custom: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
) -> Customer:
    """Partial update. ``expected_version`` guards against overwriting a concurrent edit."""
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if expected_version is not None and locked.version != expected_version:
        raise StaleCustomer(_("该客户资料已被他人修改，请刷新后重试。"))
    values, errors = clean_profile(data, kind=locked.kind)
    if errors:
        raise InvalidCustomer(_("客户资料有误，请检查标出的字段。"), field_errors=errors)
    existing, field = find_duplicate(
        kind=locked.kind,
        uscc=values.get("uscc", ""),
        id_number=values.get("id_number", ""),
        exclude_pk=locked.pk,
    )
    if existing is not None:
        raise _duplicate_error(existing, field)
    before = _snapshot(locked)
    before_custom = dict(locked.custom)
    sensitive_changed = sorted(
        f for f in SENSITIVE_FIELDS if f in values and values[f] != getattr(locked, f)
    )
    for key, value in values.items():
        setattr(locked, key, value)
    if custom is not None:
        locked.custom = dict(custom)
    after = _snapshot(locked)
    changes = {k: [before[k], after[k]] for k in AUDITED_FIELDS if before[k] != after[k]}
    custom_changes = {
        k: [before_custom.get(k), locked.custom.get(k)]
        for k in set(before_custom) | set(locked.custom)
        if before_custom.get(k) != locked.custom.get(k)
    }
    if not changes and not custom_changes and not sensitive_changed:
        return locked
    locked.version += 1
    locked.save()
    audit_record(
        action="customer.update",
        actor=actor,
        obj=locked,
        changes={**changes, **{f"custom.{k}": v for k, v in custom_changes.items()}},
        metadata={"sensitive_changed": sensitive_changed, "version": locked.version},
    )
    labels = [_field_label(k) for k in changes if k in values]
    labels += [_field_label(f) for f in sensitive_changed]
    labels += [f"{k}" for k in custom_changes]
    record_event(
        customer=locked,
        kind="profile_changed",
        title=_("修改资料：%(fields)s") % {"fields": "、".join(labels)[:150]},
        actor=actor,
        detail={
            "fields": list(changes) + sensitive_changed + [f"custom.{k}" for k in custom_changes]
        },
        obj=locked,
        source="customers",
    )
    return locked


def customer_update_custom(
    *, customer: Customer, actor: Any, cleaned: Mapping[str, Any], expected_version: int | None
) -> Customer:
    merged = cf.merge_cleaned("customer", actor, cleaned, customer.custom)
    return customer_update(
        customer=customer, actor=actor, data={}, custom=merged, expected_version=expected_version
    )


@transaction.atomic
def customer_reassign(*, customer: Customer, new_owner: Any, actor: Any) -> Customer:
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.owner_id == new_owner.pk:
        return locked
    old = locked.owner
    locked.owner = new_owner
    locked.team, locked.branch = new_owner.team, new_owner.branch
    locked.version += 1
    locked.save()
    audit_record(
        action="customer.reassign",
        actor=actor,
        obj=locked,
        changes={"owner": [str(old), str(new_owner)]},
    )
    record_event(
        customer=locked,
        kind="other",
        actor=actor,
        obj=locked,
        source="customers",
        title=_("客户经理变更：%(old)s → %(new)s") % {"old": old, "new": new_owner},
    )
    return locked
