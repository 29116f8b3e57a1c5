"""Labels of todo sources: a todo's ``source`` is a short key set by the app that created it
(``"monitoring"``, ``"leads"`` …); users see a Chinese label, never the key.

Apps that create todos under a new key register its label in ``AppConfig.ready()``::

    from credo.core.todo.sources import register_todo_source

    register_todo_source("contracts", _("合同签署"))

A key nobody registered falls back to the verbose name of the installed app with that label,
then to "其他".
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.utils.translation import gettext_lazy as _

from credo.core.registry import Registry

#: source key → label users see.
todo_sources: Registry[Any] = Registry("todo sources", on_duplicate="replace")


def register_todo_source(key: str, label: Any) -> None:
    todo_sources.register(key, label)


for _key, _label in (
    ("approvals", _("审批")),
    ("collections", _("催收")),
    ("customers", _("客户")),
    ("leads", _("线索跟进")),
    ("lending", _("贷款")),
    ("monitoring", _("贷后监控")),
    ("notify", _("通知")),
    ("origination", _("贷前申请")),
    ("reports", _("报表")),
    ("scorecard", _("评分卡")),
):
    register_todo_source(_key, _label)


def source_label(key: str) -> str:
    """The label users see for a todo source ("" for a todo without a source)."""
    if not key:
        return ""
    label = todo_sources.get(key)
    if label is not None:
        return str(label)
    try:
        return str(apps.get_app_config(key).verbose_name)
    except LookupError:
        return str(_("其他"))
