"""What the collateral app contributes to other apps' hooks: the two after-close jobs, the
notification template of the expiry alert, the todo source label, the loan page panel, the
customer 360 rows, and the payoff listeners that open 解押申请 the moment a loan is 已结清."""

from django.utils.translation import gettext_lazy as _

from credo.collateral.jobs import (
    EXPIRY_LABELS,
    EXPIRY_TEMPLATE,
    RELEASE_LABELS,
    on_expiry,
    on_loan_disbursed,
    on_loan_paid_off,
    on_loan_replayed,
    on_release,
)
from credo.collateral.panels import customer_rows, loan_panel
from credo.core.todo.sources import register_todo_source
from credo.customers.selectors import register_business_provider
from credo.lending.eod import register_after_close_job
from credo.lending.panels import register_loan_panel
from credo.lending.payoff_hooks import loan_disbursed, loan_paid_off
from credo.lending.replay.hooks import loan_replayed
from credo.notify.services import register_template

register_after_close_job(
    "collateral_release",
    on_release,
    label=_("结清贷款解押申请"),
    order=40,
    result_labels=RELEASE_LABELS,
)
register_after_close_job(
    "collateral_expiry",
    on_expiry,
    label=_("押品/保证到期提醒"),
    order=41,
    result_labels=EXPIRY_LABELS,
)
register_template(
    EXPIRY_TEMPLATE,
    name=str(_("押品/保证到期提醒")),
    subject="{{ title }}",
    body="{{ title }}。请在 {{ date }} 前办理续登记、补充担保或确认解除。",
    channels=["inapp"],
    sample={
        "title": "押品登记即将到期：C202612030001 太原市小店区房产（2026-12-31）",
        "date": "2026-12-31",
    },
)
register_todo_source("collateral", _("押品管理"))
register_loan_panel("collateral", loan_panel)
register_business_provider(customer_rows)
loan_paid_off.register("collateral.release", on_loan_paid_off)
loan_disbursed.register("collateral.guarantees", on_loan_disbursed)
loan_replayed.register("collateral.release", on_loan_replayed)
