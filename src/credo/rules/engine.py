"""The only module that talks to the ZEN engine: compile (cached) and evaluate a JDM graph.

Speed (issue 24): ``ZenDecision.evaluate`` — a decision created with ``create_decision`` —
costs ~350–400 µs per call in the Python binding whatever the graph (measured on this 2-core
machine: the decision's own nodes take ~30 µs of it), while ``ZenEngine.evaluate(key, …)`` on an
engine whose *static loader* holds that one graph costs ~25 µs (~40 µs with the trace that
names the matched rows). So a compiled graph is a :class:`Compiled`: the graph validated once
through ``create_decision`` (which gives the engine's error text for a broken graph) and then
evaluated through its own single-graph engine. Results and traces are identical
(tests/rules/test_engine_speed.py compares both paths)."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

import zen

_engine = zen.ZenEngine()
_cache: OrderedDict[Any, Compiled] = OrderedDict()
_lock = threading.Lock()
CACHE_SIZE = 128


_KEY = "decision"


class Compiled:
    """One validated JDM graph, evaluated through a ZEN engine that holds only it."""

    __slots__ = ("_engine",)

    def __init__(self, content: dict[str, Any]) -> None:
        self._engine = zen.ZenEngine({"loader": {"type": "static", "content": {_KEY: content}}})

    def evaluate(self, data: dict[str, Any], options: dict[str, Any] | None = None) -> Any:
        if options:
            return self._engine.evaluate(_KEY, data, options)  # type: ignore[arg-type]
        return self._engine.evaluate(_KEY, data)


def compile_content(content: dict[str, Any], cache_key: Any = None) -> Compiled:
    """A compiled graph; raises ``ValueError`` with the engine's message if invalid."""
    if cache_key is not None:
        with _lock:
            hit = _cache.get(cache_key)
            if hit is not None:
                _cache.move_to_end(cache_key)
                return hit
    check_shape(content)
    try:
        _engine.create_decision(json.dumps(content, ensure_ascii=False))
    except Exception as exc:  # noqa: BLE001 — the ZEN binding raises plain RuntimeError/ValueError with text
        raise ValueError(_first_line(exc)) from None
    decision = Compiled(content)
    if cache_key is not None:
        with _lock:
            _cache[cache_key] = decision
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    return decision


def check_shape(content: Any) -> None:
    if not isinstance(content, dict):
        raise ValueError("JDM must be a JSON object")
    nodes, edges = content.get("nodes"), content.get("edges")
    if not isinstance(nodes, list) or not isinstance(edges, list):
        raise ValueError("JDM needs 'nodes' and 'edges' lists")
    kinds = [n.get("type") for n in nodes if isinstance(n, dict)]
    if "inputNode" not in kinds or "outputNode" not in kinds:
        raise ValueError("JDM needs an inputNode and an outputNode")
    for node in nodes:
        if isinstance(node, dict) and node.get("type") == "decisionTableNode":
            check_table(node)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def check_table(node: dict[str, Any]) -> None:
    """Every cell must parse: conditions as unary tests, outputs as expressions (the engine
    would otherwise treat a broken condition as 'no match' and never say so)."""
    content = node.get("content") or {}
    inputs = {c.get("id") for c in content.get("inputs", [])}
    outputs = {c.get("id") for c in content.get("outputs", [])}
    for index, rule in enumerate(content.get("rules", []), 1):
        for col, cell in rule.items():
            if col.startswith("_") or not isinstance(cell, str) or not cell.strip():
                continue
            try:
                if col in inputs:
                    zen.compile_unary_expression(cell)
                elif col in outputs:
                    zen.compile_expression(cell)
            except Exception as exc:  # noqa: BLE001 — the ZEN binding's errors carry only text
                raise ValueError(
                    f"{node.get('name', '')} row {index}: {cell!r}: {_first_line(exc)}"
                ) from None


def run(decision: Any, data: dict[str, Any], *, trace: bool) -> tuple[dict[str, Any], Any]:
    try:
        response = decision.evaluate(data, {"trace": trace}) if trace else decision.evaluate(data)
    except Exception as exc:  # noqa: BLE001 — the ZEN binding's errors carry only text
        raise ValueError(_first_line(exc)) from None
    return response.get("result") or {}, response.get("trace")


def reasons(content: dict[str, Any], trace: Any) -> list[dict[str, Any]]:
    """The matched decision-table rows: node name, rule id, 1-based row, its description."""
    if not trace:
        return []
    tables = {n["id"]: n for n in content.get("nodes", []) if n.get("type") == "decisionTableNode"}
    found: list[dict[str, Any]] = []
    for node_id, node_trace in sorted(trace.items(), key=lambda kv: kv[1].get("order", 0)):
        node = tables.get(node_id)
        data = node_trace.get("traceData")
        if node is None or not data:
            continue
        rows = node.get("content", {}).get("rules", [])
        by_id = {r.get("_id"): r for r in rows}
        for hit in data if isinstance(data, list) else [data]:
            rule = hit.get("rule") or {}
            rid = rule.get("_id", "")
            index = hit.get("index")
            found.append(
                {
                    "node": node.get("name", node_id),
                    "rule": rid,
                    "row": (index + 1) if isinstance(index, int) else None,
                    "description": (by_id.get(rid) or {}).get("_description", ""),
                }
            )
    return found
