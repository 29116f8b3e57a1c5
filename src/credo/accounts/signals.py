"""Login audit: successful and failed logins, logouts and lockouts go to the audit log."""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from credo.accounts.lockout import login_failure_count
from credo.core.audit.services import audit_record


def _username(credentials: dict[str, Any] | None) -> str:
    return str((credentials or {}).get("username", ""))[:150]


@receiver(user_logged_in, dispatch_uid="credo.accounts.audit_login")
def audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit_record(action="auth.login", actor=user, obj=user)


@receiver(user_logged_out, dispatch_uid="credo.accounts.audit_logout")
def audit_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None:
        return
    audit_record(action="auth.logout", actor=user, obj=user)


@receiver(user_login_failed, dispatch_uid="credo.accounts.audit_login_failed")
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    if request is not None:
        # per client address, whatever the username: password spraying (see accounts.lockout)
        login_failure_count(request)
    # Django already replaces the password by ******; we store the username only.
    audit_record(
        action="auth.login_failed",
        actor=None,
        object_type="accounts.user",
        object_repr=_username(credentials),
        metadata={"username": _username(credentials)},
    )


@receiver(user_locked_out, dispatch_uid="credo.accounts.audit_locked_out")
def audit_locked_out(sender: Any, request: Any, username: Any = None, **kwargs: Any) -> None:
    audit_record(
        action="auth.locked_out",
        actor=None,
        object_type="accounts.user",
        object_repr=str(username or "")[:150],
        metadata={"username": str(username or "")[:150]},
    )
