"""Navigation entry of the 企业微信 / 钉钉 apps."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("企业微信/钉钉"),
        "imapps:index",
        "brand-wechat",
        permission="imapps.manage_imapps",
        section="system",
        order=63,
    )
)
