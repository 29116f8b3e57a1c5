"""One state-transition mechanism for every model with a status (or stage) field.

Each status model declares ONE table of allowed transitions — ``{source: {targets}}`` — as a
:class:`Machine` registered in :data:`machines` (each app's ``states.py``). Every service that
changes a status goes through :func:`transition` (one row) or :func:`transition_queryset` (a
set-based ``UPDATE … WHERE status IN (allowed sources)``): the table is checked, the field is
set and saved, and — when the caller names an audit action — the change is written to the
audit log in the same transaction. A direct ``obj.status = …`` outside this module is refused
by ``tests/core/test_fsm_lint.py``.

Why our own ~150 lines rather than django-fsm-2 or viewflow.fsm: both attach transitions as
decorated model methods (side effects living on the model, against our services layer), neither
does set-based updates, which the close of business needs for hundreds of thousands of rows, and
the tables here are plain data that docs/architecture.md prints and tests walk exhaustively.

Creating a row in an initial state is not a transition (``Machine.initial`` lists them).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.translation import gettext

from credo.core.registry import Registry


class TransitionRefused(Exception):
    """The table does not allow ``source → target``. Services usually catch it and raise
    their own domain error with a business message; the message here is already readable."""

    def __init__(self, machine: Machine, source: str, target: str) -> None:
        self.machine = machine
        self.source = source
        self.target = target
        super().__init__(
            gettext("状态“%(s)s”不能变更为“%(t)s”。")
            % {"s": machine.label_of(source), "t": machine.label_of(target)}
        )


@dataclass(frozen=True)
class Machine:
    """The allowed transitions of ``model.<field>``.

    ``table`` maps each state to the states it may move to (a missing or empty entry: final).
    ``initial`` are the states a row may be created in. ``choices`` (the model's TextChoices)
    gives the labels used in messages and docs.
    """

    model: type[models.Model]
    table: Mapping[str, frozenset[str]]
    initial: frozenset[str]
    field: str = "status"
    choices: Any = None
    note: str = ""
    _all: frozenset[str] = dataclasses.field(init=False, default=frozenset())

    def __post_init__(self) -> None:
        states = set(self.table) | set(self.initial)
        for targets in self.table.values():
            states |= set(targets)
        object.__setattr__(self, "_all", frozenset(states))
        if self.choices is not None:
            unknown = states - {str(v) for v in self.choices.values}
            if unknown:
                raise ValueError(f"{self.key}: states not in choices: {sorted(unknown)}")

    @property
    def key(self) -> str:
        return f"{self.model._meta.label}.{self.field}"

    @property
    def states(self) -> frozenset[str]:
        return self._all

    def label_of(self, state: str) -> str:
        if self.choices is not None:
            try:
                return str(self.choices(state).label)  # type: ignore[operator]
            except ValueError:
                pass
        return str(state)

    def targets(self, source: str) -> frozenset[str]:
        return frozenset(self.table.get(source, frozenset()))

    def can(self, source: str, target: str) -> bool:
        return target in self.table.get(source, frozenset())

    def sources_of(self, target: str) -> list[str]:
        """The states from which ``target`` may be reached (for ``WHERE status IN …``)."""
        return sorted(s for s, targets in self.table.items() if target in targets)

    def final_states(self) -> list[str]:
        return sorted(s for s in self._all if not self.table.get(s))

    def check(self, source: str, target: str) -> None:
        if not self.can(source, target):
            raise TransitionRefused(self, source, target)

    def pairs(self) -> list[tuple[str, str]]:
        """Every allowed (source, target), for docs and exhaustive tests."""
        return sorted((s, t) for s, targets in self.table.items() for t in targets)


machines: Registry[Machine] = Registry("state machines", on_duplicate="replace")


def machine(
    model: type[models.Model],
    table: Mapping[Any, Iterable[Any]],
    *,
    initial: Iterable[Any],
    field: str = "status",
    choices: Any = None,
    note: str = "",
) -> Machine:
    """Declare and register the machine of ``model.<field>`` (call at import of ``states.py``)."""
    m = Machine(
        model=model,
        table={str(s): frozenset(str(t) for t in ts) for s, ts in table.items()},
        initial=frozenset(str(s) for s in initial),
        field=field,
        choices=choices,
        note=note,
    )
    machines.register(m.key, m)
    return m


def machine_for(obj_or_model: Any, field: str = "status") -> Machine:
    model = obj_or_model if isinstance(obj_or_model, type) else type(obj_or_model)
    return machines[f"{model._meta.label}.{field}"]  # type: ignore[attr-defined]


def transition(
    obj: models.Model,
    target: Any,
    *,
    field: str = "status",
    actor: Any = None,
    action: str = "",
    metadata: Mapping[str, Any] | None = None,
    save: bool = True,
    update_fields: Iterable[str] = (),
    allow_same: bool = False,
) -> str:
    """Move ``obj.<field>`` to ``target`` if the table allows it; returns the previous state.

    ``save`` writes ``field`` plus ``update_fields`` (the caller's other changes of the same
    step). ``allow_same`` makes staying in the same state a no-op instead of a refusal (for
    idempotent retries). With ``action`` the change is audited (``changes`` = old → new).
    Call inside the caller's transaction, on a row it has locked.
    """
    m = machine_for(obj, field)
    source = str(getattr(obj, field))
    target = str(target)
    if not (allow_same and source == target):
        m.check(source, target)
    setattr(obj, field, target)
    if save:
        obj.save(update_fields=list(dict.fromkeys([field, *update_fields])))
    if action:
        from credo.core.audit.services import audit_record

        audit_record(
            action=action,
            actor=actor,
            obj=obj,
            changes={field: {"old": source, "new": target}},
            metadata=dict(metadata or {}),
        )
    return source


def transition_queryset(
    queryset: models.QuerySet[Any],
    target: Any,
    *,
    field: str = "status",
    sources: Iterable[Any] | None = None,
    **also: Any,
) -> int:
    """Set-based transition: ``UPDATE … SET field = target WHERE field IN (allowed sources)``.

    ``sources`` narrows the allowed sources further (each must be allowed by the table);
    ``also`` are other columns set in the same UPDATE. Rows in a state the table does not allow
    are left alone (and not counted). Returns the number of rows changed.
    """
    m = machine_for(queryset.model, field)
    target = str(target)
    allowed = m.sources_of(target)
    if sources is not None:
        wanted = [str(s) for s in sources]
        for s in wanted:
            m.check(s, target)
        allowed = [s for s in allowed if s in wanted]
    if not allowed:
        return 0
    return queryset.filter(**{f"{field}__in": allowed}).update(**{field: target}, **also)


def describe(m: Machine) -> list[dict[str, Any]]:
    """The table as rows for docs and the admin page: state, label, targets (labels)."""
    rows = []
    for state in sorted(m.states):
        rows.append(
            {
                "state": state,
                "label": m.label_of(state),
                "initial": state in m.initial,
                "targets": [m.label_of(t) for t in sorted(m.targets(state))],
            }
        )
    return rows
