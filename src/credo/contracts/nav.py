"""Navigation entries of contracts (registered when the app is ready)."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("合同模板"),
        "contracts:template_list",
        "file-certificate",
        permission="contracts.change_contracttemplate",
        section="system",
        order=60,
    )
)
