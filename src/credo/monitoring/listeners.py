"""What monitoring contributes to other apps' hooks: the after-EOD batch and the notify
template of the renewal invitation."""

from django.utils.translation import gettext_lazy as _

from credo.lending.eod import register_after_close_job
from credo.monitoring.batch import RESULT_LABELS, on_eod_done
from credo.notify.services import register_template

register_after_close_job(
    "monitoring",
    on_eod_done,
    label=_("贷后监控"),
    order=10,
    result_labels=RESULT_LABELS,
)
register_template(
    "monitoring.renewal_invitation",
    name=str(_("续贷邀请")),
    subject=str(_("续贷邀请")),
    body=str(
        _(
            "尊敬的{{ customer_name }}：您的贷款 {{ loan_number }} 即将结清，感谢您一直按时还款。如需续贷，请联系您的客户经理。"
        )
    ),
    channels=["sms", "email"],
    sample={"customer_name": "张三", "loan_number": "L000001"},
)
