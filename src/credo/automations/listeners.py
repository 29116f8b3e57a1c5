"""What automations listen to: the business event stream and the close of business."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from credo.automations.engine import handle_events, scan_daily, wanted_actions
from credo.core.events.stream import register_consumer
from credo.lending.eod import register_after_close_job


def on_eod_done(run: Any) -> dict[str, int]:
    """Date-reached and close-of-business triggers for the run's business date (idempotent:
    one run per occurrence × version)."""
    return scan_daily(run.business_date)


register_consumer("automations", handle_events, actions=wanted_actions)
register_after_close_job(
    "automations",
    on_eod_done,
    label=_("自动化（日期到达与日终结果）"),
    order=90,
    result_labels={"occurrences": _("触发检查"), "fired": _("执行")},
)
