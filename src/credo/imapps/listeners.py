"""Event-stream consumer: todos (incl. approval tasks) and raised monitoring alerts become
personal app cards for users who have a 企业微信 / 钉钉 identity. Writes rows only."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from credo.core.events.catalogue import register_event
from credo.core.events.stream import Event, register_consumer

ACTIONS = ("todo.create", "monitoring.alert_raised")


def handle(events: list[Event]) -> None:
    from credo.imapps.models import ImApp

    if not ImApp.objects.filter(enabled=True).exists():
        return
    for event in events:
        if event.action == "todo.create":
            _todo(event)
        elif event.action == "monitoring.alert_raised":
            _alerts(event)


def _todo(event: Event) -> None:
    from credo.core.todo.models import Todo
    from credo.imapps.services import message_queue

    todo = Todo.objects.filter(pk=event.object_id or 0).first()
    if todo is None or todo.status != Todo.Status.OPEN:
        return
    key = todo.dedupe_key or ""
    task_id = None
    if key.startswith("approval-task:") and key.split(":", 1)[1].isdigit():
        task_id = int(key.split(":", 1)[1])
    due = _("截止：%(d)s") % {"d": todo.due_date.isoformat()} if todo.due_date else ""
    message_queue(
        user_ids=[todo.user_id],
        title=todo.title,
        description="\n".join(x for x in (todo.description, due) if x),
        path=todo.url or "/",
        key=f"todo:{todo.pk}",
        approval_task_id=task_id,
    )


def _alerts(event: Event) -> None:
    from credo.imapps.services import message_queue
    from credo.monitoring import push
    from credo.monitoring.models import Alert

    ids = [int(i) for i in event.metadata.get("alert_ids") or [] if str(i).isdigit()]
    # the push policy decides per severity: a personal card goes where it sends the alert to
    # the assignee's own channel at once ("偏好渠道"); the others stay in the inbox / digest
    policies = push.policies()
    for alert in Alert.objects.filter(pk__in=ids).select_related("customer"):
        if not alert.assignee_id or not push.policy_for(alert.severity, policies).preferred:
            continue
        message_queue(
            user_ids=[alert.assignee_id],
            title=_("风险预警：%(r)s") % {"r": alert.rule_name},
            description=_("客户：%(c)s；级别：%(s)s")
            % {"c": alert.customer.name, "s": alert.get_severity_display()},
            path=f"/monitoring/alerts/{alert.pk}/",
            key=f"alert:{alert.pk}",
        )


register_consumer("imapps", handle, actions=lambda: ACTIONS)

_GROUP = _("企业微信/钉钉")
register_event("imapps.sync", _("组织架构同步完成"), "imapps.syncrun", group=_GROUP)
register_event("imapps.sync_failed", _("组织架构同步失败"), "imapps.syncrun", group=_GROUP)
register_event("imapps.login_refused", _("平台登录被拒绝"), "accounts.user", group=_GROUP)
register_event("imapps.card_act", _("通过卡片处理审批"), "approvals.approvaltask", group=_GROUP)
register_event("imapps.card_refused", _("卡片链接被拒绝"), "approvals.approvaltask", group=_GROUP)
