"""Default permissions of the system roles: a registry every app contributes to.

Apps declare what the system roles may do with :func:`register_role_permissions` (in their
``permissions.py``, imported from ``AppConfig.ready()``). The registry lives in core so that
core's own apps (scheduling, custom fields, audit) can contribute without importing the accounts
app; the accounts app defines the roles themselves (names, data scopes) and
``ensure_default_roles`` grants these permissions after every ``migrate``.
``credo docs roles`` prints the whole matrix into docs/roles.md.
"""

from __future__ import annotations

from collections.abc import Iterable

from credo.core.registry import Registry

#: The codes of the built-in roles, in display order (names and scopes: accounts app).
SYSTEM_ROLE_CODES: tuple[str, ...] = (
    "account_manager",
    "team_lead",
    "risk_analyst",
    "risk_manager",
    "credit_committee",
    "finance",
    "collector_junior",
    "collector_senior",
    "management",
    "admin",
    "privacy_officer",
)

#: role code → set of ``"app_label.codename"`` granted by default.
role_grants: Registry[set[str]] = Registry("default role permissions", on_duplicate="keep")
for _code in SYSTEM_ROLE_CODES:
    role_grants.register(_code, set())


def register_role_permissions(role_code: str, permissions: Iterable[str]) -> None:
    """Declare default permissions (``"app_label.codename"``) of a system role.

    Permissions that do not exist (yet) are skipped when the roles are granted.
    """
    grants = role_grants.get(role_code)
    if grants is None:
        raise ValueError(f"unknown system role {role_code!r}")
    for perm in permissions:
        if perm.count(".") != 1:
            raise ValueError(f"permission must be 'app_label.codename', got {perm!r}")
        grants.add(perm)


def registered_permissions(role_code: str) -> set[str]:
    return set(role_grants.get(role_code) or set())
