"""Navigation entries of the open API."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(NavItem(_("API 令牌"), "apiui:token_list", "key", section="system", order=60))
register_nav(NavItem(_("API 文档"), "apiui:docs", "api", section="system", order=61))
