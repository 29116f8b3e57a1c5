"""Background tasks of collections: the 09:00 reminders and the after-close job."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from django_tasks import task

from credo.core import clock

# Display names of the counts ``on_eod_done`` returns (``register_after_close_job(...,
# result_labels=RESULT_LABELS)``: the EOD runs page never shows raw keys).
RESULT_LABELS = {
    "opened": _("新开案件"),
    "retiered": _("调整阶段"),
    "closed": _("结案"),
    "updated": _("更新逾期天数/金额"),
    "broken_promises": _("承诺违约"),
    "events": _("时间线事件"),
    "messages_queued": _("短信已入队"),
    "messages_suppressed": _("短信被拦截"),
    "messages_failed": _("短信无可用渠道"),
    "messages_refused": _("短信被拒绝"),
    "messages_dnc": _("拒绝联系未发送"),
    "todos_created": _("新建待办"),
    "todos_updated": _("更新待办"),
    "todos_cancelled": _("取消待办"),
    "letters_created": _("律师函"),
}


@task()
def reminders() -> int:
    """Daily 09:00 (Asia/Shanghai): reminders N days before each due date and on the day."""
    from credo.collections.services import reminders_send

    return reminders_send(clock.today())


def on_eod_done(run: Any) -> dict[str, int]:
    """After-close job ``collections`` (registered in ``listeners.py``): open / re-tier / close
    cases for the run's business date and queue the tiers' actions. Safe to re-run for the same
    date (nothing is opened, re-tiered or sent twice). Returns the counts the EOD runs page
    shows: cases opened / re-tiered / updated / closed, messages queued / suppressed, todos
    created, letters created, broken promises …"""
    from credo.collections.services import cases_refresh

    return cases_refresh(run.business_date)
