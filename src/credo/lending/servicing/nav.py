"""Navigation entries of the servicing approvals (imported by lending's nav)."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

register_nav(
    NavItem(
        _("减免审批"),
        "lending:servicing:waiver_list",
        "receipt-refund",
        permission="lending.approve_waiver",
        section="lending",
        order=60,
    )
)
register_nav(
    NavItem(
        _("分类调整审批"),
        "lending:servicing:class_list",
        "stairs",
        permission="lending.approve_classification",
        section="lending",
        order=65,
    )
)
