"""The 工作台 panel of monitoring (registered when imported from ``MonitoringConfig.ready``).

风控: the open alerts (预警) of the user's scope by severity, how many are past their deadline
(处理时限, the SLA) and the most urgent ones with their countdown — two queries.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.core.ui.workbench import CARDS, WorkbenchPanel, register_workbench_panel, sla_countdown
from credo.monitoring import selectors
from credo.monitoring.models import Severity

URGENT = 5
TONE = {"critical": "danger", "high": "orange", "medium": "warning", "low": ""}


def risk_panel(user: Any) -> dict[str, Any]:
    now = timezone.now()
    active = selectors.alert_list(user, {"status": "active"})
    agg = active.aggregate(
        overdue=Count("id", filter=Q(due_at__lt=now)),
        **{str(s): Count("id", filter=Q(severity=s)) for s in Severity.values},
    )
    url = reverse("monitoring:alert_list")
    items: list[dict[str, Any]] = [
        {
            "key": "alerts-overdue",
            "label": _("已超时"),
            "value": int(agg["overdue"] or 0),
            "url": f"{url}?overdue=1",
            "tone": "danger",
            "note": _("超过处理时限的预警"),
        }
    ]
    for value, label in reversed(Severity.choices):
        items.append(
            {
                "key": f"alerts-{value}",
                "label": _("%(s)s级预警") % {"s": label},
                "value": int(agg[value] or 0),
                "url": f"{url}?status=active&severity={value}",
                "tone": TONE.get(value, ""),
            }
        )
    rows = []
    for alert in active.order_by("due_at", "id")[:URGENT]:
        text, tone = sla_countdown(alert.due_at, now)
        rows.append(
            {
                "key": f"alert-{alert.pk}",
                "label": f"{alert.rule_name} · {alert.customer.name}",
                "note": alert.get_severity_display() + _("级") + " · " + alert.get_status_display(),
                "badge": text,
                "tone": tone,
                "url": reverse("monitoring:alert_detail", args=[alert.pk]),
            }
        )
    return {
        "items": items,
        "rows_title": _("最紧急的预警"),
        "rows": rows,
        "rows_empty": _("没有未处理的预警。"),
    }


register_workbench_panel(
    WorkbenchPanel(
        "risk-alerts",
        gettext_lazy("贷后预警"),
        CARDS,
        risk_panel,
        permission="monitoring.view_alert",
        section="risk",
        order=10,
    )
)
