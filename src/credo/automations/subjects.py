"""The records an automation acts on: kinds, loading, and the JSON context conditions see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.db import models
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Kind:
    code: str
    label: Any
    object_type: str  # app_label.model
    owner_field: str = "owner"  # who "the record's owner" is (todo, notification, reassign)
    status_field: str = "status"


KINDS: dict[str, Kind] = {
    k.code: k
    for k in (
        Kind("customer", _("客户"), "customers.customer"),
        Kind("lead", _("线索"), "leads.lead", status_field="stage"),
        Kind("application", _("贷款申请"), "origination.application"),
        Kind("loan", _("贷款"), "lending.loan"),
        Kind("case", _("催收案件"), "collections.collectioncase", owner_field="assignee"),
        Kind("promise", _("承诺还款"), "collections.promisetopay", owner_field=""),
        Kind("alert", _("预警"), "monitoring.alert", owner_field="assignee"),
        Kind("record", _("自定义记录"), "records.customrecord", owner_field="created_by"),
        Kind("collateral", _("押品"), "collateral.collateral", owner_field=""),
    )
}
BY_OBJECT_TYPE: dict[str, Kind] = {k.object_type: k for k in KINDS.values()}
RELATED = ("customer", "loan", "application", "case", "record_type")


def kind_choices() -> list[tuple[str, str]]:
    return [(k.code, str(k.label)) for k in KINDS.values()]


def model_of(object_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(object_type)
    except (LookupError, ValueError):
        return None


def load(object_type: str, object_id: str) -> Any:
    model = model_of(object_type)
    if model is None or not object_id:
        return None
    try:
        return model._default_manager.filter(pk=object_id).first()
    except (ValueError, TypeError):
        return None


def _value(v: Any) -> Any:
    if isinstance(v, dt.datetime | dt.date):
        return v.isoformat()
    if isinstance(v, Decimal):
        return float(v)
    if isinstance(v, dict | list | str | int | float | bool) or v is None:
        return v
    return str(v)


def as_dict(obj: Any) -> dict[str, Any]:
    """The record's plain fields for conditions. Encrypted fields and their blind indexes are
    left out (a condition must not read an ID number); a foreign key is ``<name>_id``."""
    if obj is None:
        return {}
    out: dict[str, Any] = {"id": obj.pk, "repr": str(obj)}
    for f in obj._meta.concrete_fields:
        cls = type(f).__name__
        if "Encrypted" in cls or "BlindIndex" in cls or isinstance(f, models.FileField):
            continue
        if f.is_relation:
            out[f.attname] = getattr(obj, f.attname)
            continue
        out[f.name] = _value(getattr(obj, f.attname))
    return out


def owner_of(obj: Any) -> Any:
    kind = BY_OBJECT_TYPE.get(obj._meta.label_lower) if obj is not None else None
    names = [kind.owner_field] if kind and kind.owner_field else []
    names += ["owner", "assignee"]
    for name in names:
        user = getattr(obj, name, None) if name else None
        if user is not None and hasattr(user, "has_perm"):
            return user
    customer = related_customer(obj)
    return getattr(customer, "owner", None) if customer is not None else None


def related(obj: Any) -> dict[str, Any]:
    """The related records one step away (and the customer of a related loan or case)."""
    out: dict[str, Any] = {}
    if obj is None:
        return out
    for name in RELATED:
        if not any(f.name == name for f in obj._meta.concrete_fields):
            continue
        value = getattr(obj, name, None)
        if value is not None:
            out[name] = value
    for via in ("case", "loan", "application"):
        if "customer" not in out and via in out:
            customer = getattr(out[via], "customer", None)
            if customer is not None:
                out["customer"] = customer
        if "loan" not in out and via == "case" and "case" in out:
            out["loan"] = out["case"].loan
    return out


def related_customer(obj: Any) -> Any:
    if obj is None:
        return None
    if obj._meta.label_lower == "customers.customer":
        return obj
    return related(obj).get("customer")


def context(obj: Any, event: dict[str, Any] | None = None) -> dict[str, Any]:
    """What a condition (ZEN expression or decision table) is evaluated over."""
    from credo.core import clock

    ctx: dict[str, Any] = {
        "record": as_dict(obj),
        "event": event or {},
        "today": clock.today().isoformat(),
    }
    for name, value in related(obj).items():
        ctx[name] = as_dict(value)
    return ctx
