"""Generated reference pages: the role → permission matrix (docs/roles.md) and every status
machine's transition table (docs/transitions.md).

Both are rendered from the registrations made at start-up (:mod:`credo.core.roles` and
:data:`credo.core.fsm.machines`), so "what can risk_analyst do?" and "which status may follow
逾期?" each have one answer in one file. ``credo docs roles`` / ``credo docs transitions``
rewrite the files; a test fails when a file is stale.
"""

from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

from django.apps import apps
from django.utils import translation

import credo
from credo.accounts.roles import DEFAULT_ROLES
from credo.core import fsm
from credo.core.roles import registered_permissions

DOCS_DIR = Path(credo.__file__).resolve().parents[2] / "docs"
REGENERATE = "credo docs roles && credo docs transitions"

_DEFAULT_ACTIONS = {"add": "新增", "change": "修改", "delete": "删除", "view": "查看"}


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def permission_labels() -> dict[str, tuple[str, str]]:
    """``"app_label.codename"`` → (label, app name) for every permission the models declare
    (custom ``Meta.permissions`` and Django's default add/change/delete/view ones)."""
    labels: dict[str, tuple[str, str]] = {}
    for model in apps.get_models():
        opts = model._meta
        app_name = f"{opts.app_config.verbose_name}（{opts.app_label}）"
        for action in opts.default_permissions:
            labels[f"{opts.app_label}.{action}_{opts.model_name}"] = (
                f"{_DEFAULT_ACTIONS.get(action, action)}{opts.verbose_name_raw}",
                app_name,
            )
        for codename, name in opts.permissions:
            labels[f"{opts.app_label}.{codename}"] = (str(name), app_name)
    return labels


def render_roles() -> str:
    with translation.override("zh-hans"):
        labels = permission_labels()
        out = [
            "# 角色与默认权限 (roles → permissions)",
            "",
            "Generated from the `register_role_permissions` calls of every app "
            f"(`<app>/permissions.py`); do not edit — run `{REGENERATE.split(' && ')[0]}`.",
            "System roles are given these permissions after every `migrate` (missing ones are "
            "added again; what an administrator granted on top stays).",
            "",
        ]
        for role in DEFAULT_ROLES:
            out += [
                f"## {role.name} (`{role.code}`)",
                "",
                f"{role.description}。数据范围：{_scope_label(role.data_scope)}。",
                "",
            ]
            perms = sorted(registered_permissions(role.code))
            if not perms:
                out += ["（无默认权限）", ""]
                continue
            out += ["| 权限 | 说明 | 应用 |", "| --- | --- | --- |"]
            for perm in perms:
                label, app_name = labels.get(perm, ("（未定义的权限，授予时跳过）", "—"))
                out.append(f"| `{perm}` | {_cell(label)} | {_cell(app_name)} |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _scope_label(scope: str) -> str:
    from credo.accounts.models import DataScope

    try:
        return str(DataScope(scope).label)
    except ValueError:
        return scope


def import_states_modules() -> None:
    """Import every installed app's ``states`` module, so every machine is registered even if
    the app only imports it from its services."""
    for config in apps.get_app_configs():
        name = f"{config.name}.states"
        if _has_module(name):
            importlib.import_module(name)


def _has_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def render_transitions() -> str:
    import_states_modules()
    with translation.override("zh-hans"):
        out = [
            "# 状态流转表 (state transitions)",
            "",
            "Generated from the machines registered with `credo.core.fsm.machine` "
            "(`<app>/states.py`); do not edit — run `credo docs transitions`. Every status change "
            "goes through `fsm.transition` / `fsm.transition_queryset`, which refuse anything "
            "not listed here.",
            "",
        ]
        for key in sorted(fsm.machines.keys()):
            m = fsm.machines[key]
            out += [f"## `{key}` — {m.model._meta.verbose_name}", ""]
            if m.note:
                out += [_cell(m.note), ""]
            initial = "、".join(f"{m.label_of(s)} (`{s}`)" for s in sorted(m.initial))
            final = "、".join(f"{m.label_of(s)} (`{s}`)" for s in m.final_states()) or "—"
            out += [f"- 初始状态：{initial}", f"- 终态：{final}", ""]
            out += ["| 状态 | 代码 | 可变更为 |", "| --- | --- | --- |"]
            for state in sorted(m.states):
                targets = "、".join(f"{m.label_of(t)} (`{t}`)" for t in sorted(m.targets(state)))
                out.append(f"| {_cell(m.label_of(state))} | `{state}` | {targets or '—'} |")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


RENDERERS = {"roles": render_roles, "transitions": render_transitions}


def write(what: str, directory: Path | None = None) -> Path:
    path = (directory or DOCS_DIR) / f"{what}.md"
    path.write_text(RENDERERS[what](), encoding="utf-8")
    return path
