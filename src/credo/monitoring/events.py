"""Monitoring's entries in the business-event catalogue (automations, webhooks) beyond the
built-in ones of ``credo.core.events.builtin`` (alert handling actions, escalation, close)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from credo.core.events.catalogue import register_event

GROUP = _("贷后监控")

register_event(
    "monitoring.alert_raised",
    _("预警产生（已推送）"),
    "monitoring.alert",
    group=GROUP,
    description=_(
        "新预警已分派并通知处理人。一行一批：metadata.alert_ids 列出本批预警（夜间批量一批"
        "最多 2000 条；单条预警时 object_id 即预警编号），另有 severities、assignee_ids、"
        "source（nightly 夜间批量 / sameday 当日复查 / event 业务事件）。"
    ),
    fields=("alert_ids", "count", "severities", "assignee_ids", "source"),
)
