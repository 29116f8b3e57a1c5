"""Data scope: the ONE place that turns a user's roles into a queryset filter.

Every selector that lists business records passes its queryset through
:func:`scope_queryset`; detail views check :func:`can_access`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from django.db.models import BooleanField, Case, Model, Q, QuerySet, Value, When

from credo.accounts.models import DataScope

M = TypeVar("M", bound=Model)


def scope_q(
    user: Any,
    *,
    owner_field: str = "owner",
    team_field: str = "team",
    branch_field: str = "branch",
) -> Q | None:
    """The filter for ``user``: ``Q()`` for everything, ``None`` for nothing."""
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    if not getattr(user, "is_active", False):
        return None
    scope = user.data_scope
    if scope == DataScope.ALL:
        return Q()
    if scope == DataScope.BRANCH:
        branch = user.branch
        if branch is not None:
            return Q(**{branch_field: branch})
        team = user.team
        if team is not None:
            return Q(**{team_field: team})
        return Q(**{owner_field: user})
    if scope == DataScope.TEAM:
        team = user.team
        if team is not None:
            return Q(**{team_field: team})
        return Q(**{owner_field: user})
    return Q(**{owner_field: user})


def scope_queryset(
    qs: QuerySet[M],
    user: Any,
    *,
    owner_field: str = "owner",
    team_field: str = "team",
    branch_field: str = "branch",
) -> QuerySet[M]:
    """Restrict ``qs`` to the records ``user`` may see according to the data scope of the
    user's roles: own → ``owner=user``; team → ``team=user.team`` (``owner=user`` without a
    team); branch → ``branch=user.branch``; all → everything; inactive/anonymous → nothing."""
    q = scope_q(user, owner_field=owner_field, team_field=team_field, branch_field=branch_field)
    if q is None:
        return qs.none()
    if not q:
        return qs
    return qs.filter(q)


def can_access(
    obj: Model,
    user: Any,
    *,
    owner_field: str = "owner",
    team_field: str = "team",
    branch_field: str = "branch",
) -> bool:
    """Whether ``obj`` is inside ``user``'s data scope (same rules as :func:`scope_queryset`)."""
    q = scope_q(user, owner_field=owner_field, team_field=team_field, branch_field=branch_field)
    if q is None:
        return False
    if not q:
        return True
    model = type(obj)
    return model._default_manager.filter(q, pk=obj.pk).exists()


def get_with_access(
    qs: QuerySet[M],
    user: Any,
    pk: Any,
    *,
    owner_field: str = "owner",
    team_field: str = "team",
    branch_field: str = "branch",
) -> tuple[M, bool]:
    """``(row, allowed)``: the row ``pk`` of ``qs`` and whether it is inside ``user``'s data
    scope, read in ONE query (``get`` + :func:`can_access` took two on every detail page).
    Raises the model's ``DoesNotExist`` like ``get``."""
    q = scope_q(user, owner_field=owner_field, team_field=team_field, branch_field=branch_field)
    if q:
        qs = qs.annotate(  # type: ignore[assignment]
            _credo_in_scope=Case(
                When(q, then=Value(True)), default=Value(False), output_field=BooleanField()
            )
        )
    obj = qs.get(pk=pk)
    allowed = q is not None and (not q or bool(getattr(obj, "_credo_in_scope", False)))
    return obj, allowed
