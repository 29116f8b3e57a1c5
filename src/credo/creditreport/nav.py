"""Navigation entry of the credit-reporting app."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("征信报送"),
        "creditreport:index",
        "file-certificate",
        "creditreport.manage",
        "reports",
        order=60,
    )
)
