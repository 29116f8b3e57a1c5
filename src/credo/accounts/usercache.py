"""What every page needs to know about the logged-in user, loaded once per request — and, with a
shared cache (``REDIS_URL``), once per change rather than once per request.

One entry per user: the permission codenames of the user's roles and own grants, the roles
(code, name, data scope) and whether the user enrolled a 2FA device. Without the cache every
page paid 5 queries for these (permissions: 2, roles: 1–n, 2FA devices: 2).

Entries are tagged with a global version token; any change to a role, a role's permissions, a
user's roles or own permissions, or a 2FA device replaces the token (signals below), so the next
request of every user reloads. A per-process memory cache cannot be invalidated across gunicorn
workers, so cross-request caching is on only when ``CREDO_CACHE_SHARED`` (set when ``REDIS_URL``
is configured); otherwise the entry lives for one request (the user object).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache

VERSION_KEY = "credo:authz:version"
ATTR = "_credo_authz"
TIMEOUT = 3600
#: per-request attributes of a user object that derive from the entry
_USER_ATTRS = (ATTR, "_perm_cache", "_user_perm_cache", "_group_perm_cache", "_role_codes_cache")


def shared() -> bool:
    return bool(getattr(settings, "CREDO_CACHE_SHARED", False))


def _key(user_id: int) -> str:
    return f"credo:authz:user:{user_id}"


def _compute(user: Any) -> dict[str, Any]:
    from django.contrib.auth.models import Permission
    from django_otp import user_has_device

    from credo.accounts.models import Role

    roles = [
        (code, name, scope)
        for code, name, scope in Role.objects.filter(users=user)
        .order_by("id")
        .values_list("code", "name", "data_scope")
    ]
    perms: set[str] = set()
    if user.is_active:
        if user.is_superuser:
            rows = Permission.objects.values_list("content_type__app_label", "codename")
        else:
            from django.db.models import Q

            rows = (
                Permission.objects.filter(Q(credo_roles__users=user) | Q(user=user))
                .values_list("content_type__app_label", "codename")
                .distinct()
            )
        perms = {f"{app}.{codename}" for app, codename in rows}
    return {
        "perms": perms,
        "roles": roles,
        "otp": bool(user_has_device(user)),
        "su": user.is_superuser,
        "active": user.is_active,
    }


def authz(user: Any) -> dict[str, Any]:
    """The user's entry: ``{"perms", "roles": [(code, name, data_scope)], "otp", …}``."""
    entry = getattr(user, ATTR, None)  # getattr/setattr: through request.user's lazy proxy
    if entry is not None and entry.get("gen") == _generation:
        return entry
    entry = None
    version = None
    if shared() and user.pk is not None:
        got = cache.get_many([VERSION_KEY, _key(user.pk)])
        version = got.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, uuid.uuid4().hex, timeout=None)
            version = cache.get(VERSION_KEY)
        else:
            hit = got.get(_key(user.pk))
            if (
                hit is not None
                and hit.get("v") == version
                and hit.get("su") == user.is_superuser
                and hit.get("active") == user.is_active
            ):
                entry = hit
    if entry is None:
        entry = _compute(user)
        if version is not None:
            cache.set(_key(user.pk), {**entry, "v": version}, timeout=TIMEOUT)
    entry = {**entry, "gen": _generation}
    setattr(user, ATTR, entry)
    return entry


def forget(user: Any) -> None:
    """Drop the per-request copies on this user object (after changing its roles)."""
    for attr in _USER_ATTRS:
        if hasattr(user, attr):
            delattr(user, attr)


#: bumped by every change seen in this process: a user object that already holds its entry (a
#: long-lived object in a task or a test) reloads after a role it holds was edited
_generation = 0


def invalidate() -> None:
    """Every user's entry is stale: a role, a grant or a device changed."""
    global _generation
    _generation += 1
    if shared():
        cache.set(VERSION_KEY, uuid.uuid4().hex, timeout=None)


def _on_change(sender: Any, instance: Any = None, **kwargs: Any) -> None:
    if kwargs.get("action", "post_").startswith("pre_"):
        return
    from credo.accounts.models import User

    if isinstance(instance, User):
        forget(instance)
    invalidate()


def connect() -> None:
    """Called from the accounts AppConfig: the signals that make every entry stale."""
    from django.contrib.auth.models import Permission
    from django.db.models.signals import m2m_changed, post_delete, post_save
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from credo.accounts.models import Role, User

    for through in (User.roles.through, User.user_permissions.through, Role.permissions.through):
        m2m_changed.connect(_on_change, sender=through, dispatch_uid=f"authz-{through.__name__}")
    for model in (Role, Permission, TOTPDevice, StaticDevice):
        for signal in (post_save, post_delete):
            signal.connect(_on_change, sender=model, dispatch_uid=f"authz-{model.__name__}")
