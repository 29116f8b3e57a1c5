"""Navigation entries and the global search provider of the customers app."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav
from credo.core.ui.search import register_search_provider
from credo.customers.selectors import search_customers

register_search_provider(
    "customers", _("客户"), search_customers, permission="customers.view_customer", order=10
)
register_nav(
    NavItem(
        _("客户列表"),
        "customers:list",
        "users",
        "customers.view_customer",
        section="customers",
        order=10,
    )
)
register_nav(
    NavItem(
        _("客户导入"),
        "customers:import",
        "file-import",
        "customers.import_customers",
        section="customers",
        order=20,
    )
)
register_nav(
    NavItem(
        _("外部数据源"),
        "customers:provider_list",
        "cloud-data-connection",
        "customers.manage_providers",
        section="system",
        order=35,
    )
)
