"""Navigation entries of the scorecard app."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("评分卡"),
        "scorecard:list",
        "gauge",
        permission="scorecard.view_scorecard",
        section="risk",
        order=50,
    )
)
register_nav(
    NavItem(
        _("风险洞察"),
        "scorecard:insight",
        "bulb",
        permission="scorecard.view_scorecard",
        section="risk",
        order=55,
    )
)
