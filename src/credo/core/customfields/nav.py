"""Navigation entry of custom fields."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("自定义字段"),
        "customfields:list",
        "forms",
        "customfields.manage_custom_fields",
        section="system",
        order=30,
    )
)
