"""State changes of users, roles, org units and field permissions. All audited."""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from credo.accounts.errors import AccountsError
from credo.accounts.fieldperms import clear_cache
from credo.accounts.models import DataScope, FieldPermission, OrgUnit, Role, User
from credo.core.audit.services import audit_record, diff_fields
from credo.core.sensitive import get_sensitive_field

_SYMBOLS = "!@#$%^&*-_=+?"


def generate_password(length: int = 16) -> str:
    """A random password with all four character classes."""
    alphabet = string.ascii_letters + string.digits + _SYMBOLS
    while True:
        pwd = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.islower() for c in pwd)
            and any(c.isupper() for c in pwd)
            and any(c.isdigit() for c in pwd)
            and any(c in _SYMBOLS for c in pwd)
        ):
            return pwd


def _check_password(password: str, user: User | None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise AccountsError(" ".join(exc.messages)) from exc


def _user_snapshot(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "employee_no": user.employee_no,
        "org_unit": user.org_unit.code if user.org_unit_id and user.org_unit else None,
        "is_active": user.is_active,
        "is_superuser": user.is_superuser,
        "roles": sorted(user.roles.values_list("code", flat=True)) if user.pk else [],
    }


def _require_superuser_change(actor: Any, is_superuser: bool, current: bool) -> None:
    if is_superuser != current and not getattr(actor, "is_superuser", False):
        raise AccountsError(_("只有超级管理员可以授予或撤销超级管理员身份。"))


@transaction.atomic
def user_create(
    *,
    username: str,
    display_name: str,
    org_unit: OrgUnit | None,
    roles: Iterable[Role],
    password: str | None = None,
    email: str = "",
    employee_no: str = "",
    is_superuser: bool = False,
    actor: Any,
) -> tuple[User, str]:
    """Create a user; returns ``(user, password_used)`` (a strong password is generated when
    none is given)."""
    username = (username or "").strip()
    if not username:
        raise AccountsError(_("请填写用户名。"))
    if User.objects.filter(username__iexact=username).exists():
        raise AccountsError(_("用户名“%(name)s”已存在。") % {"name": username})
    if actor is not None and is_superuser:
        _require_superuser_change(actor, True, False)
    user = User(
        username=username,
        display_name=display_name.strip(),
        email=email.strip(),
        employee_no=employee_no.strip(),
        org_unit=org_unit,
        is_superuser=is_superuser,
        is_staff=is_superuser,
    )
    generated = password is None
    if password is None:
        password = generate_password()
    _check_password(password, user)
    user.set_password(password)
    user.save()
    user.roles.set(list(roles))
    audit_record(
        action="user.create",
        actor=actor,
        obj=user,
        changes=diff_fields({}, _user_snapshot(user)),
        metadata={"password_generated": generated},
    )
    return user, password


@transaction.atomic
def user_update(
    *,
    user: User,
    display_name: str,
    org_unit: OrgUnit | None,
    roles: Iterable[Role],
    email: str = "",
    employee_no: str = "",
    is_superuser: bool | None = None,
    actor: Any,
) -> User:
    user = User.objects.select_for_update().get(pk=user.pk)
    before = _user_snapshot(user)
    if is_superuser is not None:
        _require_superuser_change(actor, is_superuser, user.is_superuser)
        user.is_superuser = is_superuser
        user.is_staff = is_superuser
    user.display_name = display_name.strip()
    user.email = email.strip()
    user.employee_no = employee_no.strip()
    user.org_unit = org_unit
    user.save()
    user.roles.set(list(roles))
    changes = diff_fields(before, _user_snapshot(user))
    if changes:
        audit_record(action="user.update", actor=actor, obj=user, changes=changes)
    return user


@transaction.atomic
def user_set_active(*, user: User, is_active: bool, actor: Any) -> User:
    if not is_active and actor is not None and getattr(actor, "pk", None) == user.pk:
        raise AccountsError(_("不能停用自己的账户。"))
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active == is_active:
        return user
    before = user.is_active
    user.is_active = is_active
    user.save(update_fields=["is_active"])
    audit_record(
        action="user.activate" if is_active else "user.deactivate",
        actor=actor,
        obj=user,
        changes=diff_fields({"is_active": before}, {"is_active": is_active}),
    )
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str | None = None, actor: Any) -> str:
    """Set (or generate) a new password; returns the password used. Never audited in clear."""
    generated = password is None
    if password is None:
        password = generate_password()
    _check_password(password, user)
    user.set_password(password)
    user.save(update_fields=["password"])
    audit_record(
        action="user.set_password",
        actor=actor,
        obj=user,
        metadata={"generated": generated, "self": getattr(actor, "pk", None) == user.pk},
    )
    return password


def _role_snapshot(role: Role) -> dict[str, Any]:
    return {
        "code": role.code,
        "name": role.name,
        "description": role.description,
        "data_scope": role.data_scope,
        "permissions": sorted(
            f"{p.content_type.app_label}.{p.codename}"
            for p in role.permissions.select_related("content_type")
        )
        if role.pk
        else [],
    }


def _check_scope(data_scope: str) -> None:
    if data_scope not in DataScope.values:
        raise AccountsError(_("无效的数据范围：%(scope)s") % {"scope": data_scope})


@transaction.atomic
def role_create(
    *,
    code: str,
    name: str,
    description: str = "",
    data_scope: str,
    permissions: Iterable[Permission],
    actor: Any,
) -> Role:
    code = (code or "").strip()
    name = (name or "").strip()
    if not code or not name:
        raise AccountsError(_("请填写角色编码和名称。"))
    _check_scope(data_scope)
    if Role.objects.filter(code=code).exists():
        raise AccountsError(_("角色编码“%(code)s”已存在。") % {"code": code})
    if Role.objects.filter(name=name).exists():
        raise AccountsError(_("角色名称“%(name)s”已存在。") % {"name": name})
    role = Role.objects.create(
        code=code, name=name, description=description.strip(), data_scope=data_scope
    )
    role.permissions.set(list(permissions))
    audit_record(
        action="role.create", actor=actor, obj=role, changes=diff_fields({}, _role_snapshot(role))
    )
    return role


@transaction.atomic
def role_update(
    *,
    role: Role,
    name: str,
    description: str,
    data_scope: str,
    permissions: Iterable[Permission],
    code: str | None = None,
    actor: Any,
) -> Role:
    """Update a role. A system role keeps its code; its name, scope and permissions stay
    editable."""
    role = Role.objects.select_for_update().get(pk=role.pk)
    before = _role_snapshot(role)
    name = (name or "").strip()
    if not name:
        raise AccountsError(_("请填写角色名称。"))
    _check_scope(data_scope)
    if code is not None and code != role.code:
        if role.is_system:
            raise AccountsError(_("系统内置角色的编码不能修改。"))
        if Role.objects.filter(code=code).exclude(pk=role.pk).exists():
            raise AccountsError(_("角色编码“%(code)s”已存在。") % {"code": code})
        role.code = code
    if Role.objects.filter(name=name).exclude(pk=role.pk).exists():
        raise AccountsError(_("角色名称“%(name)s”已存在。") % {"name": name})
    role.name = name
    role.description = (description or "").strip()
    role.data_scope = data_scope
    role.save()
    role.permissions.set(list(permissions))
    changes = diff_fields(before, _role_snapshot(role))
    if changes:
        audit_record(action="role.update", actor=actor, obj=role, changes=changes)
    return role


_PARENT_KIND = {
    OrgUnit.Kind.HEAD_OFFICE: None,
    OrgUnit.Kind.BRANCH: OrgUnit.Kind.HEAD_OFFICE,
    OrgUnit.Kind.TEAM: OrgUnit.Kind.BRANCH,
}


def _check_org_parent(kind: str, parent: OrgUnit | None, unit: OrgUnit | None = None) -> None:
    if kind not in OrgUnit.Kind.values:
        raise AccountsError(_("无效的机构类型：%(kind)s") % {"kind": kind})
    expected = _PARENT_KIND[OrgUnit.Kind(kind)]
    if expected is None:
        if parent is not None:
            raise AccountsError(_("总部不能有上级机构。"))
        return
    if parent is None or parent.kind != expected:
        if kind == OrgUnit.Kind.BRANCH:
            raise AccountsError(_("分支机构的上级必须是总部。"))
        raise AccountsError(_("团队的上级必须是分支机构。"))
    if unit is not None and unit.pk is not None and parent.pk == unit.pk:
        raise AccountsError(_("上级机构不能是自己。"))


def _org_snapshot(unit: OrgUnit) -> dict[str, Any]:
    return {
        "code": unit.code,
        "name": unit.name,
        "kind": unit.kind,
        "parent": unit.parent.code if unit.parent_id and unit.parent else None,
        "region_code": unit.region_code,
        "is_active": unit.is_active,
    }


@transaction.atomic
def orgunit_create(
    *,
    code: str,
    name: str,
    kind: str,
    parent: OrgUnit | None = None,
    region_code: str = "",
    actor: Any,
) -> OrgUnit:
    code = (code or "").strip()
    name = (name or "").strip()
    if not code or not name:
        raise AccountsError(_("请填写机构编码和名称。"))
    if OrgUnit.objects.filter(code=code).exists():
        raise AccountsError(_("机构编码“%(code)s”已存在。") % {"code": code})
    _check_org_parent(kind, parent)
    unit = OrgUnit.objects.create(
        code=code, name=name, kind=kind, parent=parent, region_code=region_code.strip()
    )
    audit_record(
        action="orgunit.create", actor=actor, obj=unit, changes=diff_fields({}, _org_snapshot(unit))
    )
    return unit


@transaction.atomic
def orgunit_update(
    *,
    unit: OrgUnit,
    name: str,
    parent: OrgUnit | None,
    region_code: str = "",
    is_active: bool = True,
    actor: Any,
) -> OrgUnit:
    """Rename/move/(de)activate a unit. The kind never changes (members and records depend on
    it); a team may move to another branch."""
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    before = _org_snapshot(unit)
    name = (name or "").strip()
    if not name:
        raise AccountsError(_("请填写机构名称。"))
    _check_org_parent(unit.kind, parent, unit)
    if not is_active and unit.is_active:
        if unit.children.filter(is_active=True).exists():
            raise AccountsError(_("该机构下仍有启用的下级机构，不能停用。"))
        if unit.members.filter(is_active=True).exists():
            raise AccountsError(_("该机构下仍有启用的用户，不能停用。"))
    unit.name = name
    unit.parent = parent
    unit.region_code = (region_code or "").strip()
    unit.is_active = is_active
    unit.save()
    changes = diff_fields(before, _org_snapshot(unit))
    if changes:
        audit_record(action="orgunit.update", actor=actor, obj=unit, changes=changes)
    return unit


@transaction.atomic
def field_permission_set(
    *, role: Role, field_key: str, can_view: bool, can_edit: bool, actor: Any
) -> FieldPermission | None:
    """Grant/revoke clear view and edit of one sensitive field. Edit implies view; revoking
    both deletes the row (= masked). Returns the row or None."""
    if get_sensitive_field(field_key) is None:
        raise AccountsError(_("“%(key)s”不是敏感字段。") % {"key": field_key})
    can_view = can_view or can_edit
    existing = (
        FieldPermission.objects.select_for_update().filter(role=role, field_key=field_key).first()
    )
    before = (
        {"can_view": existing.can_view, "can_edit": existing.can_edit}
        if existing
        else {"can_view": False, "can_edit": False}
    )
    after = {"can_view": can_view, "can_edit": can_edit}
    if before == after:
        return existing
    row: FieldPermission | None
    if not can_view:
        if existing is not None:
            existing.delete()
        row = None
    elif existing is None:
        row = FieldPermission.objects.create(
            role=role, field_key=field_key, can_view=can_view, can_edit=can_edit
        )
    else:
        existing.can_view, existing.can_edit = can_view, can_edit
        existing.save(update_fields=["can_view", "can_edit"])
        row = existing
    audit_record(
        action="field_permission.set",
        actor=actor,
        obj=role,
        changes=diff_fields(before, after),
        metadata={"field": field_key},
    )
    if actor is not None:
        clear_cache(actor)
    return row
