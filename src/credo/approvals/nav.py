"""Navigation entries of approvals (registered when the app is ready)."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("我的审批"),
        "approvals:inbox",
        "checkbox",
        permission="approvals.view_approvalinstance",
        section="work",
        order=15,
    )
)
register_nav(
    NavItem(
        _("审批流配置"),
        "approvals:flow_list",
        "git-branch",
        permission="approvals.manage_flows",
        section="system",
        order=60,
    )
)
