"""Permissions come from the user's roles (Role.permissions), not from Django groups."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class RoleBackend(ModelBackend):
    def _get_group_permissions(self, user_obj: Any) -> Any:
        return Permission.objects.filter(credo_roles__users=user_obj)

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        """The role and own permissions in one query per request — none with a shared cache
        (``credo.accounts.usercache``)."""
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            from credo.accounts.usercache import authz

            user_obj._perm_cache = authz(user_obj)["perms"]
        return user_obj._perm_cache  # type: ignore[no-any-return]
