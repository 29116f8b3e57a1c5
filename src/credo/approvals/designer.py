"""The visual approval-flow designer, without a database: form rows ⇄ definition JSON, field
validation with Chinese messages, designer operations (add / remove / move), and the pure parts
of a route preview (step conditions, amounts).

The definition JSON stays the stored form (``FlowVersion.definition``); the designer reads it
into *rows* (plain dicts of strings that mirror the form fields), lets the administrator edit
them, and writes them back. Every form field has a flat name (``r0-s1-a0-role`` = route 0,
step 1, approver 0, role) so one POST carries the whole flow and each error is shown next to
its field.

Step keys the engine understands (see ``services/__init__``): ``name``, ``mode`` (``all`` 会签 /
``any`` 或签), ``approvers`` (``{"role": code}``, ``{"user": username}`` or
``{"manager": role code}`` = holders of that role in the applicant's team, else branch),
``deadline_hours``, ``escalate_to`` (one approver entry), ``max_amount`` (fen),
``branch_scoped`` and ``condition`` (a ZEN expression over the approval elements; the step is
skipped when it is false).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import zen
from django.utils.translation import gettext as _

APPROVER_TYPES = ("role", "user", "manager")
ROUTE_CODE_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_STEPS = 20
MAX_APPROVERS = 10


# --- ZEN step conditions -------------------------------------------------------------------------
def condition_error(expression: str) -> str | None:
    """The ZEN parser's complaint about ``expression`` (None when it parses)."""
    try:
        problem = zen.validate_expression(expression)
    except Exception as exc:  # noqa: BLE001 — the binding raises plain errors carrying text
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if not problem:
        return None
    if isinstance(problem, dict):
        return str(problem.get("source") or problem.get("type") or problem)
    return str(problem)


def condition_holds(expression: str | None, data: Mapping[str, Any]) -> tuple[bool, str]:
    """(applies, note). An empty condition always applies. A condition that cannot be
    evaluated (a missing element, a type mismatch) also applies: a broken condition must add
    an approval step, never silently remove one."""
    text = (expression or "").strip()
    if not text:
        return True, ""
    try:
        value = zen.evaluate_expression(text, dict(data))
    except Exception as exc:  # noqa: BLE001 — the binding raises plain errors carrying text
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return True, _("条件无法计算（%(e)s），按需要审批处理") % {"e": first[:120]}
    return value is True, ""


def amount_yuan(fen: Any) -> int | float:
    """The amount as the route table and step conditions read it: yuan, whole yuan as int."""
    value = int(fen or 0)
    return value // 100 if value % 100 == 0 else float(Decimal(value) / 100)


def condition_data(
    context: Mapping[str, Any], *, flow: str = "", amount: Any = None, months: Any = None
) -> dict[str, Any]:
    """The elements a step condition sees: the instance context plus ``amount_yuan`` (of the
    amount now under approval) and the flow key."""
    data = {k: v for k, v in dict(context or {}).items() if isinstance(k, str)}
    data["flow"] = flow or data.get("flow", "")
    fen = amount if amount is not None else data.get("amount")
    data["amount_yuan"] = amount_yuan(fen if isinstance(fen, int | float) else 0)
    if months is not None:
        data["months"] = months
    for key in ("product", "risk_grade", "branch"):
        data.setdefault(key, "")
    data.setdefault("months", 0)
    return data


# --- definition → rows ---------------------------------------------------------------------------
def _approver_row(approver: Any) -> dict[str, str]:
    row = {"type": "role", "role": "", "user": ""}
    if isinstance(approver, dict):
        if "user" in approver:
            row.update(type="user", user=str(approver.get("user") or ""))
        elif "manager" in approver:
            row.update(type="manager", role=str(approver.get("manager") or ""))
        else:
            row.update(type="role", role=str(approver.get("role") or ""))
    return row


def _fen_to_yuan_text(value: Any) -> str:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        return ""
    return str(Decimal(value) / 100).rstrip("0").rstrip(".") if value % 100 else str(value // 100)


def step_row(step: Any) -> dict[str, Any]:
    step = step if isinstance(step, dict) else {}
    hours = step.get("deadline_hours")
    deadline, unit = "", "hours"
    if isinstance(hours, int) and not isinstance(hours, bool) and hours > 0:
        deadline, unit = (str(hours // 24), "days") if hours % 24 == 0 else (str(hours), "hours")
    escalate = step.get("escalate_to")
    esc = _approver_row(escalate) if isinstance(escalate, dict) else None
    return {
        "name": str(step.get("name") or ""),
        "mode": step.get("mode") if step.get("mode") in ("all", "any") else "any",
        "approvers": [_approver_row(a) for a in step.get("approvers") or []],
        "deadline": deadline,
        "deadline_unit": unit,
        "esc_type": esc["type"] if esc else "",
        "esc_role": esc["role"] if esc else "",
        "esc_user": esc["user"] if esc else "",
        "condition": str(step.get("condition") or ""),
        "max_amount": _fen_to_yuan_text(step.get("max_amount")),
        "branch_scoped": bool(step.get("branch_scoped")),
    }


def new_step() -> dict[str, Any]:
    row = step_row({})
    row["approvers"] = [{"type": "role", "role": "", "user": ""}]
    return row


def definition_to_rows(definition: Any) -> dict[str, Any]:
    definition = definition if isinstance(definition, dict) else {}
    routes = definition.get("routes") if isinstance(definition.get("routes"), dict) else {}
    return {
        "same_approver": definition.get("allow_same_approver_across_steps") is True,
        "routes": [
            {
                "code": str(code),
                "name": str((route or {}).get("name") or "") if isinstance(route, dict) else "",
                "steps": [
                    step_row(s)
                    for s in ((route or {}).get("steps") or [] if isinstance(route, dict) else [])
                ],
            }
            for code, route in routes.items()
        ],
    }


# --- POST → rows ---------------------------------------------------------------------------------
def _count(data: Mapping[str, Any], key: str, limit: int) -> int:
    try:
        return max(0, min(int(str(data.get(key) or "0")), limit))
    except ValueError:
        return 0


def _text(data: Mapping[str, Any], key: str, limit: int = 500) -> str:
    return str(data.get(key) or "").strip()[:limit]


def rows_from_post(data: Mapping[str, Any]) -> dict[str, Any]:
    """The designer's form fields (a QueryDict or dict) as rows; nothing is validated here."""
    routes = []
    for r in range(_count(data, "routes", 20)):
        rp = f"r{r}"
        steps = []
        for s in range(_count(data, f"{rp}-steps", MAX_STEPS)):
            sp = f"{rp}-s{s}"
            approvers = []
            for a in range(_count(data, f"{sp}-approvers", MAX_APPROVERS)):
                ap = f"{sp}-a{a}"
                kind = _text(data, f"{ap}-type", 10)
                approvers.append(
                    {
                        "type": kind if kind in APPROVER_TYPES else "role",
                        "role": _text(data, f"{ap}-role", 40),
                        "user": _text(data, f"{ap}-user", 150),
                    }
                )
            esc_type = _text(data, f"{sp}-esc_type", 10)
            unit = _text(data, f"{sp}-deadline_unit", 10)
            steps.append(
                {
                    "name": _text(data, f"{sp}-name", 120),
                    "mode": _text(data, f"{sp}-mode", 5),
                    "approvers": approvers,
                    "deadline": _text(data, f"{sp}-deadline", 12),
                    "deadline_unit": unit if unit in ("hours", "days") else "hours",
                    "esc_type": esc_type if esc_type in APPROVER_TYPES else "",
                    "esc_role": _text(data, f"{sp}-esc_role", 40),
                    "esc_user": _text(data, f"{sp}-esc_user", 150),
                    "condition": _text(data, f"{sp}-condition", 500),
                    "max_amount": _text(data, f"{sp}-max_amount", 20),
                    "branch_scoped": str(data.get(f"{sp}-branch_scoped") or "") in ("1", "on"),
                }
            )
        routes.append(
            {
                "code": _text(data, f"{rp}-code", 40),
                "name": _text(data, f"{rp}-name", 120),
                "steps": steps,
            }
        )
    return {
        "same_approver": str(data.get("same_approver") or "") in ("1", "on"),
        "routes": routes,
    }


# --- designer operations (add / remove / move) ---------------------------------------------------
def _ints(parts: list[str]) -> list[int] | None:
    try:
        return [int(p) for p in parts]
    except ValueError:
        return None


def apply_op(rows: dict[str, Any], op: str) -> tuple[dict[str, Any], str]:
    """Apply one designer button (``add-step:0``, ``up:0:2``, ``remove-approver:0:1:0`` …) to
    the rows; returns (rows, the id of the field to focus afterwards, "" if none). Unknown or
    out-of-range operations change nothing."""
    name, _sep, rest = op.partition(":")
    idx = _ints(rest.split(":")) if rest else []
    if idx is None:
        return rows, ""
    routes = rows["routes"]

    def route(i: int) -> dict[str, Any] | None:
        return routes[i] if 0 <= i < len(routes) else None

    if name == "add-route":
        routes.append({"code": "", "name": "", "steps": [new_step()]})
        return rows, f"f-r{len(routes) - 1}-code"
    if name == "remove-route" and len(idx) == 1 and route(idx[0]) is not None:
        routes.pop(idx[0])
        return rows, "add-route"
    if not idx or route(idx[0]) is None:
        return rows, ""
    r = idx[0]
    steps = routes[r]["steps"]
    if name == "add-step" and len(idx) == 1 and len(steps) < MAX_STEPS:
        steps.append(new_step())
        return rows, f"f-r{r}-s{len(steps) - 1}-name"
    if len(idx) < 2 or not 0 <= idx[1] < len(steps):
        return rows, ""
    s = idx[1]
    if name == "remove-step" and len(idx) == 2:
        steps.pop(s)
        return rows, f"add-step-{r}"
    if name == "up" and len(idx) == 2 and s > 0:
        steps[s - 1], steps[s] = steps[s], steps[s - 1]
        return rows, f"up-{r}-{s - 1}" if s - 1 > 0 else f"down-{r}-{s - 1}"
    if name == "down" and len(idx) == 2 and s < len(steps) - 1:
        steps[s + 1], steps[s] = steps[s], steps[s + 1]
        return rows, f"down-{r}-{s + 1}" if s + 1 < len(steps) - 1 else f"up-{r}-{s + 1}"
    approvers = steps[s]["approvers"]
    if name == "add-approver" and len(idx) == 2 and len(approvers) < MAX_APPROVERS:
        approvers.append({"type": "role", "role": "", "user": ""})
        return rows, f"f-r{r}-s{s}-a{len(approvers) - 1}-type"
    if name == "remove-approver" and len(idx) == 3 and 0 <= idx[2] < len(approvers):
        approvers.pop(idx[2])
        return rows, f"add-approver-{r}-{s}"
    return rows, ""


# --- rows → definition, with per-field errors ----------------------------------------------------
def _approver(
    kind: str,
    role: str,
    user: str,
    keys: tuple[str, str],
    refs: tuple[set[str], set[str]],
    errors: dict[str, str],
) -> dict[str, str] | None:
    """One approver entry from a picker row; ``keys`` = (role field, user field) for errors,
    ``refs`` = (existing role codes, active usernames)."""
    role_key, user_key = keys
    roles, users = refs
    if kind == "user":
        if not user:
            errors[user_key] = _("请选择审批人员。")
        elif user not in users:
            errors[user_key] = _("人员“%(u)s”不存在或已停用。") % {"u": user}
        else:
            return {"user": user}
        return None
    if not role:
        errors[role_key] = (
            _("请选择上级所属的角色（如团队主管）。") if kind == "manager" else _("请选择角色。")
        )
    elif role not in roles:
        errors[role_key] = _("角色“%(r)s”不存在。") % {"r": role}
    else:
        return {"manager": role} if kind == "manager" else {"role": role}
    return None


def _approvers(
    step: dict[str, Any], sp: str, refs: tuple[set[str], set[str]], errors: dict[str, str]
) -> list[dict[str, str]]:
    if not step["approvers"]:
        errors[f"{sp}-approvers"] = _("请至少添加一个审批人。")
    approvers: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for a, row in enumerate(step["approvers"]):
        key = f"{sp}-a{a}"
        keys = (f"{key}-role", f"{key}-user")
        entry = _approver(row["type"], row["role"], row["user"], keys, refs, errors)
        if entry is None:
            continue
        ident = next(iter(entry.items()))
        if ident in seen:
            errors[keys[1] if row["type"] == "user" else keys[0]] = _(
                "与本步骤的另一个审批人重复。"
            )
            continue
        seen.add(ident)
        approvers.append(entry)
    return approvers


def _positive_int(text: str) -> int | None:
    try:
        value = int(text)
    except ValueError:
        return None
    return value if value > 0 else None


def _yuan_to_fen(text: str) -> int | None:
    try:
        value = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


def _step_definition(
    step: dict[str, Any], sp: str, refs: tuple[set[str], set[str]], errors: dict[str, str]
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": step["name"]}
    if not step["name"]:
        errors[f"{sp}-name"] = _("请填写步骤名称。")
    if step["mode"] not in ("all", "any"):
        errors[f"{sp}-mode"] = _("请选择会签（全部同意）或或签（任一同意）。")
    out["mode"] = step["mode"] if step["mode"] in ("all", "any") else "any"
    out["approvers"] = _approvers(step, sp, refs, errors)
    if step["deadline"]:
        amount = _positive_int(step["deadline"])
        if amount is None:
            errors[f"{sp}-deadline"] = _("时限必须是大于 0 的整数。")
        else:
            out["deadline_hours"] = amount * 24 if step["deadline_unit"] == "days" else amount
    if step["esc_type"]:
        keys = (f"{sp}-esc_role", f"{sp}-esc_user")
        entry = _approver(step["esc_type"], step["esc_role"], step["esc_user"], keys, refs, errors)
        if entry is not None:
            out["escalate_to"] = entry
    _extras(step, sp, out, errors)
    return out


def _extras(step: dict[str, Any], sp: str, out: dict[str, Any], errors: dict[str, str]) -> None:
    """Condition, approval limit and branch preference of a step."""
    if step["condition"]:
        problem = condition_error(step["condition"])
        if problem:
            errors[f"{sp}-condition"] = _("条件表达式无效：%(e)s") % {"e": problem}
        else:
            out["condition"] = step["condition"]
    if step["max_amount"]:
        fen = _yuan_to_fen(step["max_amount"])
        if fen is None:
            errors[f"{sp}-max_amount"] = _("审批权限金额必须是大于 0 的金额（元，最多两位小数）。")
        else:
            out["max_amount"] = fen
    if step["branch_scoped"]:
        out["branch_scoped"] = True


def rows_to_definition(
    rows: dict[str, Any], *, roles: set[str], users: set[str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """(definition, errors by field name). ``roles`` are the existing role codes and ``users``
    the usernames of active users. The definition is only meant to be saved without errors."""
    errors: dict[str, str] = {}
    routes: dict[str, Any] = {}
    if not rows["routes"]:
        errors["routes"] = _("至少需要一条审批路径。")
    for r, route in enumerate(rows["routes"]):
        rp = f"r{r}"
        code = route["code"]
        if not code:
            errors[f"{rp}-code"] = _("请填写路径编码。")
        elif not ROUTE_CODE_RE.match(code):
            errors[f"{rp}-code"] = _("路径编码只能包含小写字母、数字和下划线，并以字母开头。")
        elif code in routes:
            errors[f"{rp}-code"] = _("路径编码“%(c)s”重复。") % {"c": code}
        if not route["name"]:
            errors[f"{rp}-name"] = _("请填写路径名称。")
        steps = []
        names: set[str] = set()
        for s, step in enumerate(route["steps"]):
            sp = f"{rp}-s{s}"
            steps.append(_step_definition(step, sp, (roles, users), errors))
            if step["name"] and step["name"] in names:
                errors[f"{sp}-name"] = _("步骤名称“%(n)s”在本路径中重复。") % {"n": step["name"]}
            names.add(step["name"])
        if not steps and code != "auto":
            errors[f"{rp}-steps"] = _("该路径没有审批步骤（只有 auto 自动审批路径可以没有步骤）。")
        elif steps and all(row["condition"] for row in route["steps"]):
            errors[f"{rp}-steps"] = _(
                "至少需要一个没有条件的步骤，否则条件都不满足时申请会不经审批直接通过。"
            )
        if code and code not in routes:
            routes[code] = {"name": route["name"], "steps": steps}
    definition = {"allow_same_approver_across_steps": bool(rows["same_approver"]), "routes": routes}
    return definition, errors


# --- route preview (pure part) -------------------------------------------------------------------
def plan(route: dict[str, Any], data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """For each step of ``route``: whether it applies to ``data`` and why not."""
    out = []
    for index, step in enumerate(route.get("steps") or []):
        applies, note = condition_holds(step.get("condition"), data)
        out.append({"index": index, "step": step, "applies": applies, "note": note})
    return out


# --- rows → what the template renders ------------------------------------------------------------
def _field(name: str, value: Any, errors: Mapping[str, str]) -> dict[str, Any]:
    return {"name": name, "id": f"f-{name}", "value": value, "error": errors.get(name, "")}


def decorate(rows: dict[str, Any], errors: Mapping[str, str]) -> list[dict[str, Any]]:
    """Routes → steps → approvers with, for every field, its form name, element id, value and
    error (templates cannot build ``r0-s1-name`` keys themselves)."""
    out = []
    for r, route in enumerate(rows["routes"]):
        rp = f"r{r}"
        steps = []
        count = len(route["steps"])
        for s, step in enumerate(route["steps"]):
            sp = f"{rp}-s{s}"
            approvers = [
                {
                    "a": a,
                    "number": a + 1,
                    "prefix": f"{sp}-a{a}",
                    **{
                        k: _field(f"{sp}-a{a}-{k}", row[k], errors)
                        for k in ("type", "role", "user")
                    },
                }
                for a, row in enumerate(step["approvers"])
            ]
            keys = (
                "name",
                "mode",
                "deadline",
                "deadline_unit",
                "esc_type",
                "esc_role",
                "esc_user",
                "condition",
                "max_amount",
                "branch_scoped",
            )
            steps.append(
                {
                    "r": r,
                    "s": s,
                    "number": s + 1,
                    "first": s == 0,
                    "last": s == count - 1,
                    "prefix": sp,
                    "approvers": approvers,
                    "approvers_error": errors.get(f"{sp}-approvers", ""),
                    **{k: _field(f"{sp}-{k}", step[k], errors) for k in keys},
                }
            )
        out.append(
            {
                "r": r,
                "prefix": rp,
                "code": _field(f"{rp}-code", route["code"], errors),
                "name": _field(f"{rp}-name", route["name"], errors),
                "steps_error": errors.get(f"{rp}-steps", ""),
                "steps": steps,
            }
        )
    return out


def error_list(errors: Mapping[str, str]) -> list[dict[str, str]]:
    """The error summary: (element id to jump to, message), in form order."""
    return [
        {"id": "designer-form" if key in ("form", "routes") else f"f-{key}", "message": message}
        for key, message in errors.items()
    ]
