"""What the reports hook into: the close of business (snapshots after each run) and the
notification template of scheduled reports."""

from django.utils.translation import gettext_lazy as _

from credo.lending.eod import register_eod_done_listener
from credo.notify.services import register_template
from credo.reports.tasks import after_eod

register_eod_done_listener(after_eod)
register_template(
    "reports.scheduled",
    name=str(_("定时报表")),
    subject="{{ report }}",
    body="{{ report }}：{{ rows }} 行数据（邮件附 Excel）。在线查看与下载：{{ url }}",
    channels=["inapp", "email", "wecom", "dingtalk"],
)
