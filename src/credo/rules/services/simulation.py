"""Simulation: what a draft would decide differently over the last real records."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from credo.rules import engine
from credo.rules.models import DecisionVersion, Evaluation
from credo.rules.registry import get_spec
from credo.rules.services.evaluation import _compiled


@dataclass
class Simulation:
    total: int = 0
    changed: int = 0
    errors: int = 0
    seconds: float = 0.0
    rows: list[dict[str, Any]] = field(default_factory=list)  # changed decisions (first 200)
    summary: dict[str, int] = field(default_factory=dict)  # "before → after" → count


def recorded_inputs(key: str) -> Any:
    """Default simulation history: the inputs of the last n stored evaluations of ``key``."""

    def history(n: int) -> list[tuple[str, dict[str, Any]]]:
        rows = (
            Evaluation.objects.filter(model_key=key)
            .order_by("-id")
            .values_list("subject_type", "subject_id", "input")[:n]
        )
        return [(f"{t}#{i}" if t else "—", data) for t, i, data in rows]

    return history


def simulate(
    version: DecisionVersion, *, limit: int = 1000, against: DecisionVersion | None = None
) -> Simulation:
    """Run ``version`` and the published version over the last ``limit`` real records (the
    model's registered history) and report which decisions would change."""
    spec = get_spec(version.model.key)
    history = spec.history if spec is not None and spec.history is not None else None
    if history is None:
        history = recorded_inputs(version.model.key)
    baseline = against
    if baseline is None:
        baseline = version.model.versions.filter(status=DecisionVersion.Status.PUBLISHED).first()
    outputs = [f for f, _label in spec.outputs] if spec is not None and spec.outputs else None
    sim = Simulation()
    started = time.perf_counter()
    new_compiled = _compiled(version)
    old_compiled = _compiled(baseline) if baseline is not None else None
    for label, data in history(limit):
        sim.total += 1
        try:
            after, _t = engine.run(new_compiled, data, trace=False)
            before = engine.run(old_compiled, data, trace=False)[0] if old_compiled else {}
        except ValueError as exc:
            sim.errors += 1
            if len(sim.rows) < 200:
                sim.rows.append({"label": label, "input": data, "error": str(exc)})
            continue
        if outputs:
            after = {k: after.get(k) for k in outputs}
            before = {k: before.get(k) for k in outputs}
        if after != before:
            sim.changed += 1
            flip = f"{brief(before)} → {brief(after)}"
            sim.summary[flip] = sim.summary.get(flip, 0) + 1
            if len(sim.rows) < 200:
                sim.rows.append({"label": label, "input": data, "before": before, "after": after})
    sim.seconds = time.perf_counter() - started
    return sim


def brief(result: dict[str, Any]) -> str:
    """A result as one line (``route=standard, reason=…``), lists and objects left out."""
    return ", ".join(f"{k}={v}" for k, v in result.items() if not isinstance(v, list | dict))
