"""Navigation entries of lending (registered when the app is ready)."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav
from credo.lending.bookimport import nav as _bookimport_nav  # noqa: F401
from credo.lending.books import nav as _books_nav  # noqa: F401
from credo.lending.exposure import nav as _exposure_nav  # noqa: F401
from credo.lending.provisions import nav as _provisions_nav  # noqa: F401
from credo.lending.servicing import nav as _servicing_nav  # noqa: F401

register_nav(
    NavItem(
        _("贷款"),
        "lending:loan_list",
        "cash",
        permission="lending.view_loan",
        section="lending",
        order=10,
    )
)
register_nav(
    NavItem(
        _("新建贷款"),
        "lending:loan_create",
        "plus",
        permission="lending.create_loan_directly",
        section="lending",
        order=20,
    )
)
register_nav(
    NavItem(
        _("贷款产品"),
        "lending:product_list",
        "package",
        permission="lending.manage_products",
        section="lending",
        order=80,
    )
)
register_nav(
    NavItem(
        _("贷款市场报价利率"),
        "lending:lpr_list",
        "percentage",
        permission="lending.manage_rates",
        section="lending",
        order=85,
    )
)
register_nav(
    NavItem(
        _("银行流水"),
        "lending_statements:list",
        "file-invoice",
        "lending.post_repayment",
        section="lending",
        order=40,
    )
)
register_nav(
    NavItem(
        _("日终批处理"),
        "lending_eod:runs",
        "calendar-time",
        "lending.run_eod",
        section="lending",
        order=50,
    )
)
register_nav(
    NavItem(_("还款计划试算"), "lending:calculator", "calculator", section="lending", order=90)
)
