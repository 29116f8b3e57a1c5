"""Navigation entries of the books (imported by lending's nav)."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("会计期间"),
        "lending:books:periods",
        "calendar-check",
        permission="lending.view_books",
        section="lending",
        order=70,
    )
)
register_nav(
    NavItem(
        _("科目余额表"),
        "lending:books:trial_balance",
        "scale",
        permission="lending.view_books",
        section="lending",
        order=72,
    )
)
register_nav(
    NavItem(
        _("凭证导出"),
        "lending:books:vouchers",
        "file-spreadsheet",
        permission="lending.export_vouchers",
        section="lending",
        order=74,
    )
)
