"""Navigation entries of collections (registered when the app is ready)."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("催收工作台"),
        "collections:workbench",
        "phone-call",
        permission="collections.view_collectioncase",
        section="risk",
        order=30,
    )
)
register_nav(
    NavItem(
        _("法务队列"),
        "collections:legal",
        "gavel",
        permission="collections.manage_cases",
        section="risk",
        order=31,
    )
)
register_nav(
    NavItem(
        _("催收合规日志"),
        "collections:compliance",
        "shield-check",
        permission="collections.view_compliance",
        section="risk",
        order=32,
    )
)
