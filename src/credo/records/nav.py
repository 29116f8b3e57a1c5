"""Navigation entries of custom records."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("自定义表单"),
        "records:home",
        "file-description",
        "records.view_customrecord",
        "work",
        order=45,
    )
)
register_nav(
    NavItem(
        _("表单设计"),
        "records:type_list",
        "forms",
        "records.manage_recordtype",
        section="system",
        order=31,
    )
)
