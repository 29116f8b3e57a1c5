"""Permissions come from the user's roles (Role.permissions), not from Django groups."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Permission


class RoleBackend(ModelBackend):
    def _get_group_permissions(self, user_obj: Any) -> Any:
        return Permission.objects.filter(credo_roles__users=user_obj)
