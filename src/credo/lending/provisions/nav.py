"""Navigation entry of 贷款损失准备 (imported by lending's nav), next to the books."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("贷款损失准备"),
        "lending:provisions:report",
        "shield-half",
        permission="lending.view_books",
        section="lending",
        order=73,
    )
)
