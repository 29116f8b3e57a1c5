"""The built-in (system) roles and the default permissions other apps give them.

Apps declare what their system roles may do with :func:`register_role_permissions` (the registry
lives in :mod:`credo.core.roles`, so core's apps can contribute too; it is re-exported here);
:func:`ensure_default_roles` — run after every ``migrate`` — creates
missing system roles and adds those permissions. It never removes a permission, so whatever an
administrator granted on top of the defaults stays.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from credo.accounts.models import DataScope, Role
from credo.core.roles import (
    SYSTEM_ROLE_CODES,
    register_role_permissions,
    registered_permissions,
    role_grants,
)

__all__ = [
    "DEFAULT_ROLES",
    "DEFAULT_ROLE_CODES",
    "DefaultRole",
    "ensure_default_roles",
    "register_role_permissions",
    "registered_permissions",
]


class DefaultRole(NamedTuple):
    """A system role; a tuple so ``for code, name, scope, desc in DEFAULT_ROLES`` works."""

    code: str
    name: Any
    data_scope: str
    description: Any = ""


DEFAULT_ROLES: list[DefaultRole] = [
    DefaultRole(
        "account_manager", _("客户经理"), DataScope.OWN, _("维护本人的线索、客户与贷款申请")
    ),
    DefaultRole("team_lead", _("团队主管"), DataScope.TEAM, _("管理本团队的客户与业务")),
    DefaultRole("risk_analyst", _("风控专员"), DataScope.BRANCH, _("本机构的尽职调查与风险评估")),
    DefaultRole("risk_manager", _("风控经理"), DataScope.ALL, _("全部业务的风险审核")),
    DefaultRole("credit_committee", _("审批委员会"), DataScope.ALL, _("贷款审批决策")),
    DefaultRole("finance", _("财务"), DataScope.ALL, _("放款、还款与对账")),
    DefaultRole(
        "collector_junior", _("催收员（初级）"), DataScope.OWN, _("处理分配给本人的催收案件")
    ),
    DefaultRole("collector_senior", _("催收员（高级）"), DataScope.TEAM, _("处理本团队的催收案件")),
    DefaultRole("management", _("管理层"), DataScope.ALL, _("查看全部业务与报表")),
    DefaultRole("admin", _("系统管理员"), DataScope.ALL, _("用户、角色、组织机构与系统设置")),
    DefaultRole(
        "privacy_officer",
        _("个人信息保护负责人"),
        DataScope.ALL,
        _("处理个人信息主体请求与保留策略"),
    ),
]

DEFAULT_ROLE_CODES = [r.code for r in DEFAULT_ROLES]

if tuple(DEFAULT_ROLE_CODES) != SYSTEM_ROLE_CODES:  # pragma: no cover — a programming mistake
    raise RuntimeError("DEFAULT_ROLES and credo.core.roles.SYSTEM_ROLE_CODES differ")


def _resolve(perms: Iterable[str]) -> list[Permission]:
    """The Permission rows of ``app_label.codename`` strings (one query; unknown ones skipped)."""
    wanted = {tuple(p.split(".", 1)) for p in perms}
    if not wanted:
        return []
    codenames = {codename for _app, codename in wanted}
    rows = Permission.objects.filter(codename__in=codenames).select_related("content_type")
    found = [p for p in rows if (p.content_type.app_label, p.codename) in wanted]
    return sorted(found, key=lambda p: (p.content_type.app_label, p.codename))


def ensure_default_roles() -> list[Role]:
    """Create missing system roles and add their registered default permissions (idempotent)."""
    roles: list[Role] = []
    with transaction.atomic():
        for spec in DEFAULT_ROLES:
            role = Role.objects.filter(code=spec.code).first()
            if role is None:
                role = Role.objects.create(
                    code=spec.code,
                    name=str(spec.name),
                    description=str(spec.description),
                    data_scope=spec.data_scope,
                    is_system=True,
                )
            elif not role.is_system:
                role.is_system = True
                role.save(update_fields=["is_system"])
            perms = _resolve(role_grants[spec.code])
            if perms:
                role.permissions.add(*perms)
            roles.append(role)
    return roles


def ensure_default_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    """post_migrate receiver. Django sends post_migrate once per app (and every test flush
    does too); only the signal of the last app with models acts, when every app's permissions
    exist."""
    from django.apps import apps
    from django.db import connections

    using = kwargs.get("using", "default")
    if using != "default":
        return
    with_models = [c for c in apps.get_app_configs() if c.models_module is not None]
    if with_models and sender is not with_models[-1]:
        return
    tables = connections[using].introspection.table_names()
    if Role._meta.db_table not in tables or "auth_permission" not in tables:
        return
    ensure_default_roles()
