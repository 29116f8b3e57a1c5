"""Navigation entries and the global search provider of the leads app."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav
from credo.core.ui.search import register_search_provider
from credo.leads.selectors import search_leads

register_nav(
    NavItem(_("线索"), "leads:list", "target-arrow", "leads.view_lead", "customers", order=5)
)
register_nav(
    NavItem(
        _("线索看板"),
        "leads:board",
        "layout-kanban",
        "leads.view_lead",
        "customers",
        order=6,
    )
)
register_nav(
    NavItem(_("线索漏斗"), "leads:funnel", "filter", "leads.view_lead", "customers", order=7)
)
register_nav(
    NavItem(_("线索导入"), "leads:import", "file-import", "leads.import_leads", "customers", 8)
)
register_nav(
    NavItem(
        _("离职移交"),
        "leads:book_reassign",
        "transfer",
        "leads.reassign_book",
        "system",
        order=60,
    )
)

register_nav(
    NavItem(
        _("线索分配设置"),
        "leads:assignees",
        "users-group",
        "leads.assign_lead",
        "customers",
        order=9,
    )
)

register_search_provider("leads", _("线索"), search_leads, permission="leads.view_lead", order=15)
