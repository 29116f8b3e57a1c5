"""Writes of custom record types and records; each function is one transaction and audited.

Public contract used by automations (``create a custom record`` action)::

    record_create(*, record_type, values, actor, customer=None, application=None, loan=None)
    record_update(*, record, values, actor)

``values`` are raw values as the API takes them (money as 元, choices by value or label, a
subtable as a list of row dicts); they are validated against the record type's published
version on the server and :class:`InvalidValues` (with per-field 中文 errors) is raised when
they do not fit.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from credo.core import clock, fsm, versioning
from credo.core.audit.services import audit_record
from credo.core.sequence import daily_number
from credo.records import schema
from credo.records.errors import InvalidDefinition, InvalidState, InvalidValues, NotPermitted
from credo.records.models import (
    AttachedTo,
    CustomRecord,
    RecordFile,
    RecordType,
    RecordTypeVersion,
)

PHOTO_KINDS = ("jpg", "png")


def _known_roles() -> set[str]:
    from credo.accounts.models import Role

    return set(Role.objects.values_list("code", flat=True))


def _definition(
    fields: Iterable[Mapping[str, Any]], view_roles: Iterable[str], edit_roles: Iterable[str]
) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    roles = _known_roles()
    try:
        normalized = schema.normalize(fields, known_roles=roles)
    except schema.DefinitionError as exc:
        raise InvalidDefinition(errors=exc.errors) from None
    view, edit = schema._codes(view_roles), schema._codes(edit_roles)
    unknown = [c for c in view + edit if c not in roles]
    if unknown:
        raise InvalidDefinition(
            errors={"roles": _("未知的角色：%(c)s") % {"c": "、".join(unknown)}}
        )
    return normalized, view, edit


# --- record types ---------------------------------------------------------------------------------
@transaction.atomic
def record_type_create(
    *,
    code: str,
    name: str,
    attached_to: str,
    fields: Iterable[Mapping[str, Any]],
    actor: Any,
    description: str = "",
    view_roles: Iterable[str] = (),
    edit_roles: Iterable[str] = (),
    note: str = "",
) -> RecordType:
    """A new record type with draft version 1."""
    code = (code or "").strip()
    errors: dict[str, str] = {}
    if not schema.KEY_RE.match(code.replace("-", "_")):
        errors["code"] = _("表单编码须以小写字母开头，只含小写字母、数字、下划线或短横线。")
    elif RecordType.objects.filter(code=code).exists():
        errors["code"] = _("表单编码“%(c)s”已存在。") % {"c": code}
    if not (name or "").strip():
        errors["name"] = _("请填写表单名称。")
    if attached_to not in AttachedTo.values:
        errors["attached_to"] = _("请选择挂接对象。")
    if errors:
        raise InvalidDefinition(errors=errors)
    normalized, view, edit = _definition(fields, view_roles, edit_roles)
    rt = RecordType.objects.create(
        code=code,
        name=name.strip()[:60],
        description=(description or "").strip()[:300],
        attached_to=attached_to,
        created_by=actor,
    )
    version = RecordTypeVersion.objects.create(
        record_type=rt,
        number=1,
        fields=normalized,
        view_roles=view,
        edit_roles=edit,
        note=note[:200],
        created_by=actor,
    )
    audit_record(
        action="records.recordtype.create",
        actor=actor,
        obj=rt,
        changes={"fields": {"old": None, "new": [d["key"] for d in normalized]}},
        metadata={"code": rt.code, "version": version.number, "attached_to": attached_to},
    )
    return rt


@transaction.atomic
def record_type_update(
    *,
    record_type: RecordType,
    actor: Any,
    fields: Iterable[Mapping[str, Any]],
    name: str | None = None,
    description: str | None = None,
    view_roles: Iterable[str] = (),
    edit_roles: Iterable[str] = (),
    note: str = "",
) -> RecordTypeVersion:
    """Save the definition into the type's draft; without a draft (the type is published or
    retired) a new draft version is created, so published records keep their version."""
    rt = RecordType.objects.select_for_update().get(pk=record_type.pk)
    normalized, view, edit = _definition(fields, view_roles, edit_roles)
    if name is not None:
        if not name.strip():
            raise InvalidDefinition(errors={"name": _("请填写表单名称。")})
        rt.name = name.strip()[:60]
    if description is not None:
        rt.description = description.strip()[:300]
    rt.save(update_fields=["name", "description", "updated_at"])
    draft = rt.versions.filter(status=RecordTypeVersion.Status.DRAFT).first()
    old_keys: list[str] = []
    if draft is None:
        last = rt.versions.order_by("-number").first()
        old_keys = [d["key"] for d in last.fields] if last else []
        draft = RecordTypeVersion.objects.create(
            record_type=rt,
            number=(last.number + 1) if last else 1,
            fields=normalized,
            view_roles=view,
            edit_roles=edit,
            note=note[:200],
            created_by=actor,
        )
    else:
        old_keys = [d["key"] for d in draft.fields]
        draft.fields, draft.view_roles, draft.edit_roles = normalized, view, edit
        draft.note = note[:200]
        draft.save(update_fields=["fields", "view_roles", "edit_roles", "note", "updated_at"])
    audit_record(
        action="records.recordtype.update",
        actor=actor,
        obj=rt,
        changes={"fields": {"old": old_keys, "new": [d["key"] for d in normalized]}},
        metadata={"version": draft.number},
    )
    return draft


@transaction.atomic
def record_type_publish(*, version: RecordTypeVersion, actor: Any) -> RecordTypeVersion:
    """Publish a draft; the previously published version is retired (its records keep it)."""
    locked = RecordTypeVersion.objects.select_for_update().get(pk=version.pk)
    try:
        retired = versioning.publish(
            locked, parent_field="record_type", actor=actor, published_by_field="published_by"
        )
    except fsm.TransitionRefused:
        raise InvalidState(_("只有草稿可以发布。")) from None
    audit_record(
        action="records.recordtype.publish",
        actor=actor,
        obj=locked.record_type,
        changes={"status": {"old": "draft", "new": "published"}},
        metadata={"version": locked.number, "retired": [v.number for v in retired]},
    )
    return locked


@transaction.atomic
def record_type_retire(*, record_type: RecordType, actor: Any) -> RecordTypeVersion:
    """Stop new records of this type (existing ones stay readable and editable)."""
    version = (
        RecordTypeVersion.objects.select_for_update()
        .filter(record_type=record_type, status=RecordTypeVersion.Status.PUBLISHED)
        .first()
    )
    if version is None:
        raise InvalidState(_("该表单没有已发布的版本。"))
    fsm.transition(version, versioning.RETIRED, actor=actor, update_fields=("updated_at",))
    audit_record(
        action="records.recordtype.retire",
        actor=actor,
        obj=record_type,
        changes={"status": {"old": "published", "new": "retired"}},
        metadata={"version": version.number},
    )
    return version


# --- records ----------------------------------------------------------------------------------------
def _parent_of(
    record_type: RecordType, customer: Any, application: Any, loan: Any
) -> dict[str, Any]:
    given = {
        k: v
        for k, v in (("customer", customer), ("application", application), ("loan", loan))
        if v is not None
    }
    if list(given) != [record_type.attached_to]:
        raise InvalidValues(
            _("“%(t)s”只能挂接在%(p)s上。")
            % {"t": record_type.name, "p": AttachedTo(record_type.attached_to).label}
        )
    return given


def _check_uploads(
    fields: list[dict[str, Any]], cleaned: schema.Cleaned
) -> list[tuple[str, str, Any]]:
    """Every upload through the document rules; errors go into ``cleaned.errors``."""
    from credo.origination import documents
    from credo.origination.errors import InvalidDocument

    by_key = {d["key"]: d for d in fields}
    checked: list[tuple[str, str, Any]] = []
    for key, uploads in cleaned.uploads.items():
        d = by_key.get(key)
        if d is None or d["type"] not in schema.FILE_TYPES:
            continue
        for up in uploads:
            name = up.name or ("photo.jpg" if d["type"] == "photo" else "file")
            try:
                c = documents.check_upload(item=d["label"], name=name, data=up.data)
            except InvalidDocument as exc:
                cleaned.errors[key] = exc.message
                break
            if d["type"] == "photo" and c.kind not in PHOTO_KINDS:
                cleaned.errors[key] = _("只接受 JPG 或 PNG 照片。")
                break
            checked.append((key, name, c))
    return checked


def _store_files(
    record: CustomRecord, checked: list[tuple[str, str, Any]], actor: Any
) -> dict[str, list[int]]:
    from credo.origination import documents

    added: dict[str, list[int]] = {}
    stored: list[str] = []
    try:
        for key, name, c in checked:
            stored_name = documents.store(c)
            stored.append(stored_name)
            f = RecordFile.objects.create(
                record=record,
                field_key=key,
                stored_name=stored_name,
                original_name=name[:200],
                content_type=c.content_type,
                size=len(c.data),
                sha256=c.sha256,
                uploaded_by=actor,
            )
            added.setdefault(key, []).append(f.pk)
    except Exception:
        for s in stored:
            documents.remove(s)
        raise
    return added


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    return {
        k: {"old": old.get(k), "new": new.get(k)}
        for k in sorted(set(old) | set(new))
        if old.get(k) != new.get(k)
    }


@transaction.atomic
def record_create(
    *,
    record_type: RecordType,
    values: Mapping[str, Any],
    actor: Any,
    customer: Any = None,
    application: Any = None,
    loan: Any = None,
    uploads: Mapping[str, list[schema.Upload]] | None = None,
    strict: bool = True,
) -> CustomRecord:
    """Fill in a record of the type's published version. ``strict`` (API, automations) refuses
    unknown keys and keys the actor may not edit; the web form passes ``strict=False``."""
    parent = _parent_of(record_type, customer, application, loan)
    version = (
        RecordTypeVersion.objects.filter(
            record_type=record_type, status=RecordTypeVersion.Status.PUBLISHED
        )
        .select_related("record_type")
        .first()
    )
    if version is None:
        raise InvalidState(_("“%(t)s”没有已发布的版本，不能填写。") % {"t": record_type.name})
    viewer = schema.Viewer.of(actor)
    if not (viewer.allows(version.view_roles) and viewer.allows(version.edit_roles)):
        raise NotPermitted(_("您的角色不能填写“%(t)s”。") % {"t": record_type.name})
    cleaned = schema.validate(
        version.fields, values, viewer=viewer, uploads=uploads, strict_keys=strict
    )
    checked = _check_uploads(version.fields, cleaned)
    if cleaned.errors:
        raise InvalidValues(errors=cleaned.errors)
    record = CustomRecord.objects.create(
        number=daily_number("records", "R", day=clock.today(), numbered=CustomRecord),
        record_type=record_type,
        version=version,
        values=cleaned.values,
        created_by=actor,
        updated_by=actor,
        **parent,
    )
    if checked:
        for key, ids in _store_files(record, checked, actor).items():
            record.values[key] = [*record.values.get(key, []), *ids]
        record.save(update_fields=["values"])
    audit_record(
        action="records.create",
        actor=actor,
        obj=record,
        changes=_diff({}, record.values),
        metadata={
            "record_type": record_type.code,
            "version": version.number,
            "parent": f"{record_type.attached_to}:{next(iter(parent.values())).pk}",
        },
    )
    return record


@transaction.atomic
def record_update(
    *,
    record: CustomRecord,
    values: Mapping[str, Any],
    actor: Any,
    uploads: Mapping[str, list[schema.Upload]] | None = None,
    removed: Mapping[str, list[int]] | None = None,
    strict: bool = True,
) -> CustomRecord:
    """Change a record against the version it was filled with. Values of fields the actor may
    not edit are kept; with ``strict`` a key left out keeps its value (a partial update)."""
    locked = (
        CustomRecord.objects.select_for_update()
        .select_related("version", "record_type")
        .get(pk=record.pk)
    )
    version = locked.version
    viewer = schema.Viewer.of(actor)
    if not (viewer.allows(version.view_roles) and viewer.allows(version.edit_roles)):
        raise NotPermitted(_("您的角色不能修改“%(t)s”。") % {"t": locked.record_type.name})
    raw = dict(values)
    if strict:  # partial: untouched keys keep their stored value (in API form)
        for d in version.fields:
            if d["key"] not in raw and d["type"] not in ("computed", *schema.FILE_TYPES):
                stored = locked.values.get(d["key"])
                if stored is not None and viewer.can_edit(d):
                    raw[d["key"]] = schema.api_value(d, stored)
    cleaned = schema.validate(
        version.fields,
        raw,
        viewer=viewer,
        existing=locked.values,
        uploads=uploads,
        removed=removed,
        strict_keys=strict,
    )
    checked = _check_uploads(version.fields, cleaned)
    if cleaned.errors:
        raise InvalidValues(errors=cleaned.errors)
    old = dict(locked.values)
    new_values = cleaned.values
    if checked:
        for key, ids in _store_files(locked, checked, actor).items():
            new_values[key] = [*new_values.get(key, []), *ids]
    gone = [i for ids in (removed or {}).values() for i in ids]
    if gone:
        from credo.origination import documents

        for f in RecordFile.objects.filter(record=locked, pk__in=gone):
            transaction.on_commit(functools.partial(documents.remove, f.stored_name))
            f.delete()
    changes = _diff(old, new_values)
    if not changes:
        return locked
    locked.values = new_values
    locked.updated_by = actor
    locked.save(update_fields=["values", "updated_by", "updated_at"])
    audit_record(
        action="records.update",
        actor=actor,
        obj=locked,
        changes=changes,
        metadata={"record_type": locked.record_type.code, "version": version.number},
    )
    return locked
