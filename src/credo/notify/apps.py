from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "credo.notify"
    label = "notify"
    verbose_name = _("通知")

    def ready(self) -> None:
        from credo.accounts.roles import register_role_permissions
        from credo.core.scheduling.registry import register_schedule
        from credo.core.ui.nav import NavItem, register_nav
        from credo.notify.services import register_template

        register_nav(NavItem(_("我的消息"), "notify:inbox", "bell", section="work", order=15))
        register_nav(
            NavItem(
                _("发送记录"),
                "notify:outbox",
                "send",
                permission="notify.view_message",
                section="system",
                order=60,
            )
        )
        register_nav(
            NavItem(
                _("通知渠道"),
                "notify:channels",
                "broadcast",
                permission="notify.manage_channels",
                section="system",
                order=61,
            )
        )
        register_nav(
            NavItem(
                _("消息模板"),
                "notify:templates",
                "template",
                permission="notify.manage_channels",
                section="system",
                order=62,
            )
        )
        register_role_permissions("admin", ["notify.manage_channels", "notify.view_message"])
        register_role_permissions("management", ["notify.view_message"])
        register_schedule("notify.send_due", "credo.notify.tasks.send_due", "* * * * *")
        register_template(
            "notify.test",
            name=_("测试消息"),
            subject="测试消息",
            body="{{ name }}，您好：这是一条来自信贷系统的测试消息，收到即表示渠道配置正确。",
            channels=["inapp", "sms", "email", "wecom", "dingtalk"],
            sample={"name": "张三"},
        )
