"""The only module that talks to the ZEN engine: compile (cached) and evaluate a JDM graph."""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from typing import Any

import zen

_engine = zen.ZenEngine()
_cache: OrderedDict[Any, Any] = OrderedDict()
_lock = threading.Lock()
CACHE_SIZE = 128


def compile_content(content: dict[str, Any], cache_key: Any = None) -> Any:
    """A compiled ``ZenDecision``; raises ``ValueError`` with the engine's message if invalid."""
    if cache_key is not None:
        with _lock:
            hit = _cache.get(cache_key)
            if hit is not None:
                _cache.move_to_end(cache_key)
                return hit
    check_shape(content)
    try:
        decision = _engine.create_decision(json.dumps(content, ensure_ascii=False))
    except Exception as exc:  # noqa: BLE001 — the ZEN binding raises plain RuntimeError/ValueError with text
        raise ValueError(_first_line(exc)) from None
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
