"""Scheduled jobs of lending: the nightly close, and the LPR repricing after each close."""

from django.utils.translation import gettext_lazy as _

from credo.accounts.roles import register_role_permissions
from credo.core.scheduling.registry import register_schedule
from credo.lending.eod import register_after_close_job
from credo.lending.rates.jobs import RESULT_LABELS, lpr_repricing

register_schedule("lending.eod_nightly", "credo.lending.tasks.eod_nightly", "30 1 * * *")
# Under RQ: chunks and jobs held by a worker that died are delivered again (no-op otherwise).
register_schedule("lending.eod_sweep", "credo.lending.tasks.eod_sweep", "* * * * *")
# Before the downstream jobs (monitoring 10, collections 20, reports 30): they then see the new schedule.
register_after_close_job(
    "lpr_repricing",
    lpr_repricing,
    label=_("LPR 重定价"),
    order=5,
    result_labels=RESULT_LABELS,
)
# 贷款市场报价利率: the administrators who manage products keep the LPR table current.
register_role_permissions("admin", ["lending.manage_rates"])
# 权责发生制: the close's accrual batches as one entry per product per day, before the others.
from credo.lending.accruals.services import post_accruals  # noqa: E402

register_after_close_job(
    "interest_accrual",
    post_accruals,
    label=_("利息计提入账"),
    order=2,
    result_labels={"entries": _("计提分录"), "batches": _("计提批次")},
)
# 贷款损失准备: the optional month-end provision run (disabled until finance enables it).
from credo.lending.provisions import schedules as _provision_schedules  # noqa: E402, F401
