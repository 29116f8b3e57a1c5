"""Navigation entry of the staff page for borrower requests."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("客户自助申请"),
        "borrower_staff:list",
        "device-mobile",
        permission="borrower.review_borrowerrequest",
        section="lending",
        order=70,
    )
)
