"""Field work's contributions to other apps' registries: the after-close plan job, the todo
source label, the visit/inspection datasets of the report engine."""

from django.utils.translation import gettext_lazy as _

from credo.core.todo.sources import register_todo_source
from credo.fieldwork.services import on_eod_done
from credo.lending.eod import register_after_close_job

register_after_close_job(
    "fieldwork.plan",
    on_eod_done,
    label=_("贷后检查计划"),
    order=20,
    result_labels={
        "created": _("新生成检查"),
        "cancelled": _("取消检查"),
        "evaluated": _("规则计算"),
    },
)
register_todo_source("fieldwork", _("贷后检查"))
