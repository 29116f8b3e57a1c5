"""Audited refusals that survive the rollback they cause.

A service that refuses an actor (no permission, out of scope) records the refusal and raises.
If the refusal happens inside the service's own transaction, the raise rolls that transaction
back — and an audit row written inside it would vanish with it. The one pattern, for every app:

* :func:`refuse` records the refusal and raises the given error. Outside an
  :func:`atomic_with_refusals` scope the record is written at once (in its own transaction);
  inside one, it is attached to the error and written by the scope **after** the rollback.
* :func:`atomic_with_refusals` is ``transaction.atomic`` for services that check the actor inside
  their transaction.

A caller that wraps a service in a transaction of its own must let the error leave that
transaction before the refusal can be recorded outside it: refusals are checked before a
service opens its transaction, or inside an :func:`atomic_with_refusals` scope.
"""

from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable, Mapping
from typing import Any, NoReturn, TypeVar

from django.db import transaction

from credo.core.audit.services import audit_record

T = TypeVar("T")
_ATTR = "_credo_refusal_audit"
_DEFER: contextvars.ContextVar[bool] = contextvars.ContextVar("credo_defer_refusal", default=False)


def refuse(
    error: Exception,
    *,
    action: str,
    actor: Any = None,
    obj: Any = None,
    metadata: Mapping[str, Any] | None = None,
) -> NoReturn:
    """Audit the refusal ``action`` and raise ``error`` (see the module docstring)."""
    entry = {"action": action, "actor": actor, "obj": obj, "metadata": dict(metadata or {})}
    if _DEFER.get():
        setattr(error, _ATTR, entry)
    else:
        with transaction.atomic():
            audit_record(**entry)
    raise error


def atomic_with_refusals(func: Callable[..., T]) -> Callable[..., T]:
    """``transaction.atomic`` whose refusals (:func:`refuse`) are audited after the rollback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        nested = _DEFER.get()  # an outer scope records after *its* rollback
        token = _DEFER.set(True)
        try:
            with transaction.atomic():
                return func(*args, **kwargs)
        except Exception as exc:
            entry = getattr(exc, _ATTR, None)
            if entry is not None and not nested:
                setattr(exc, _ATTR, None)
                with transaction.atomic():
                    audit_record(**entry)
            raise
        finally:
            _DEFER.reset(token)

    return wrapper
