"""Navigation entries of the decision models (registered when the app is ready)."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("决策模型"),
        "rules:model_list",
        "git-branch",
        permission="rules.view_decisionmodel",
        section="system",
        order=50,
    )
)
