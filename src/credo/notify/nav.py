"""Navigation entries of notify (registered when the app is ready)."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

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
