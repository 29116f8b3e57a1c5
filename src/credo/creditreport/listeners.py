"""What the credit-reporting app contributes to lending's hooks: the month's records are
generated after the close of business that follows a month-end close (结账), and a replay of a
loan whose reported months changed queues corrections for the next submission."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _

from credo.lending.eod import register_after_close_job
from credo.lending.replay.hooks import loan_replayed

log = logging.getLogger(__name__)


def on_eod_done(run: Any) -> Mapping[str, Any]:
    from credo.creditreport.services import auto_generate

    return auto_generate(today=run.business_date)


def on_period_closed(month: Any) -> None:
    """结账 committed: generate the month in the background (batch queue)."""
    from django_tasks import default_task_backend

    from credo.creditreport.services import auto_enabled
    from credo.creditreport.tasks import generate_closed_month

    if not auto_enabled():
        return
    task = generate_closed_month
    if "batch" in getattr(default_task_backend, "queues", set()):
        task = task.using(queue_name="batch")
    task.enqueue(month.isoformat())


def on_loan_replayed(loan_id: int, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    from credo.creditreport.models import CreditRecord
    from credo.creditreport.services import corrections_for_loans

    if not CreditRecord.objects.filter(loan_id=loan_id).exists():
        return  # never reported: nothing to correct
    corrections_for_loans(loan_ids=[loan_id], actor=None)


register_after_close_job(
    "creditreport_generate",
    on_eod_done,
    label=_("征信报送数据生成（月末结账后）"),
    order=90,
    result_labels={"generated": _("生成批次"), "records": _("报送记录"), "errors": _("校验错误")},
)
loan_replayed.register("creditreport.corrections", on_loan_replayed)


def _register_period_hook() -> None:
    # the books' hook registry (结账后); the after-close job above catches up without it
    from credo.lending.books import services as books

    hooks = getattr(books, "period_closed_hooks", None)
    if hooks is not None:
        hooks.register("creditreport", on_period_closed)


_register_period_hook()
