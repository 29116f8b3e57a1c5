"""What the reports hook into: the close of business (snapshots after each run) and the
notification template of scheduled reports, and the month-end history of the demo book."""

import datetime as dt

from django.utils.translation import gettext_lazy as _

from credo.lending.demo import register_book_seeded_hook
from credo.lending.eod import register_after_close_job
from credo.notify.services import register_template
from credo.reports.tasks import after_eod

register_after_close_job("reports", after_eod, label=_("报表快照"), order=30)
register_template(
    "reports.scheduled",
    name=str(_("定时报表")),
    subject="{{ report }}",
    body="{{ report }}：{{ rows }} 行数据（邮件附 Excel）。在线查看与下载：{{ url }}",
    channels=["inapp", "email", "wecom", "dingtalk"],
)


def _monthend_history(today: dt.date) -> None:
    """After the demo book is seeded: the month-end history of the last 12 months (the
    dashboard's 上期 and the trend charts read it)."""
    from credo.reports import standard

    first = today.replace(day=1)
    for i in range(12, 0, -1):
        standard.monthend_backfill(standard.add_months(first, -i))


register_book_seeded_hook("reports.monthend_history", _monthend_history)
