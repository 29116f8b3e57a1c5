"""What monitoring contributes to other apps' hooks: the after-EOD batch and the notify
template of the renewal invitation."""

from django.utils.translation import gettext_lazy as _

from credo.lending.eod import register_after_close_job
from credo.monitoring.batch import on_eod_done
from credo.notify.services import register_template

register_after_close_job(
    "monitoring",
    on_eod_done,
    label=_("贷后监控"),
    order=10,
    result_labels={
        "loans": _("监控贷款"),
        "hits": _("规则命中"),
        "alerts_created": _("新增预警"),
        "alerts_auto_closed": _("自动关闭预警"),
        "retention_renewal": _("续贷触发"),
        "ms_indicators": _("指标计算（毫秒）"),
        "ms_rules": _("规则评估（毫秒）"),
        "ms_alerts": _("预警处理（毫秒）"),
        "ms_total": _("合计（毫秒）"),
    },
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
