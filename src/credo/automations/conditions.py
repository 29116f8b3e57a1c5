"""Conditions: a ZEN expression, or a decision table (JDM) whose output ``fire`` decides."""

from __future__ import annotations

import json
from typing import Any

from django.utils.translation import gettext as _

CONDITION_KINDS = ("none", "expression", "table")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def validate(condition: dict[str, Any]) -> dict[str, str]:
    import zen

    from credo.rules.engine import compile_content

    kind = condition.get("kind") or "none"
    if kind not in CONDITION_KINDS:
        return {"kind": _("条件类型无效。")}
    if kind == "expression":
        expr = str(condition.get("expression") or "").strip()
        if not expr:
            return {"expression": _("请填写条件表达式。")}
        try:
            zen.compile_expression(expr)
        except Exception as exc:  # noqa: BLE001 — the ZEN binding raises text-only errors
            return {"expression": _("表达式无法解析：%(e)s") % {"e": _first_line(exc)}}
    if kind == "table":
        table = condition.get("table")
        try:
            compile_content(table if isinstance(table, dict) else {})
        except ValueError as exc:
            return {"table": _("决策表无效：%(e)s") % {"e": exc}}
        outputs = [
            c.get("field")
            for n in (table or {}).get("nodes", [])
            if n.get("type") == "decisionTableNode"
            for c in (n.get("content") or {}).get("outputs", [])
        ]
        if "fire" not in outputs:
            return {"table": _("决策表须有输出字段 fire（true 表示执行动作）。")}
    return {}


def evaluate(condition: dict[str, Any], ctx: dict[str, Any]) -> tuple[bool, str]:
    """(fires, explanation). An expression that fails to evaluate (a missing field compared
    with a number …) does not fire, and says why."""
    import zen

    from credo.rules.engine import compile_content, run

    kind = condition.get("kind") or "none"
    if kind == "none":
        return True, _("无条件")
    if kind == "expression":
        expr = str(condition.get("expression") or "")
        try:
            result = zen.evaluate_expression(expr, ctx)
        except Exception as exc:  # noqa: BLE001
            return False, _("表达式求值失败：%(e)s") % {"e": _first_line(exc)}
        return result is True, f"{expr} → {json.dumps(result, ensure_ascii=False)}"
    table = condition.get("table") or {}
    try:
        decision = compile_content(
            table, cache_key=("automation", json.dumps(table, sort_keys=True))
        )
        output, _trace = run(decision, ctx, trace=False)
    except ValueError as exc:
        return False, _("决策表求值失败：%(e)s") % {"e": exc}
    return output.get("fire") is True, _("决策表输出：%(o)s") % {
        "o": json.dumps(output, ensure_ascii=False)[:300]
    }
