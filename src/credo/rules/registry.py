"""Apps declare their configurable decisions here (from ``AppConfig.ready``).

    register_decision(DecisionSpec(
        key="leads.assignment", name=_("线索分配"), default=Path(...)/"assignment.json",
        inputs=[("region", _("地区")), ...], outputs=[("team", _("团队")), ...],
        history=recent_lead_inputs, sample={...}, tests=[{"name":..., "input":..., "expected":...}],
    ))

The default JDM becomes version 1 (published) the first time the model is used or migrated;
afterwards the lender's edits in the UI are the truth and the default is never re-applied.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.functional import Promise

from credo.core.registry import Registry

# history(n) → the inputs of the last n real records: (label shown in the simulation, input)
History = Callable[[int], Iterable[tuple[str, dict[str, Any]]]]


# a label: plain text or a lazy translation (translated when shown)
Label = str | Promise


@dataclass(frozen=True)
class DecisionSpec:
    key: str
    name: Label
    default: Path | dict[str, Any]
    description: Label = ""
    inputs: list[tuple[str, Label]] = field(default_factory=list)
    outputs: list[tuple[str, Label]] = field(default_factory=list)
    history: History | None = None
    sample: dict[str, Any] = field(default_factory=dict)
    tests: list[dict[str, Any]] = field(default_factory=list)

    def default_content(self) -> dict[str, Any]:
        if isinstance(self.default, Path):
            return json.loads(self.default.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
        return dict(self.default)


# decision key → spec; registering a key again replaces the earlier spec
decision_specs: Registry[DecisionSpec] = Registry("decision models", on_duplicate="replace")


def register_decision(spec: DecisionSpec) -> None:
    decision_specs.register(spec.key, spec)


def unregister_decision(key: str) -> None:
    """For tests that register a throw-away decision."""
    decision_specs.unregister(key)


def get_spec(key: str) -> DecisionSpec | None:
    return decision_specs.get(key)


def registered() -> list[DecisionSpec]:
    return sorted(decision_specs, key=lambda s: s.key)
