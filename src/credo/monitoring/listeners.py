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

# --- pushed alerts (issue 23) ---------------------------------------------------------------------
_STAFF_CHANNELS = ["inapp", "email", "wecom", "dingtalk"]
register_template(
    "monitoring.alert_raised",
    name=str(_("新预警")),
    subject=str(_("【{{ severity }}】新预警：{{ rule_name }}")),
    body=str(
        _(
            "【{{ severity }}】{{ rule_name }}：客户 {{ customer_name }}，贷款 {{ loan_number }}。处理人 {{ assignee }}，请在 {{ due_at }} 前处理。"
        )
    ),
    channels=_STAFF_CHANNELS,
    sample={
        "severity": "高",
        "rule_name": "逾期30天以上",
        "customer_name": "太原示例商贸有限公司",
        "loan_number": "L000001",
        "assignee": "刘洋",
        "due_at": "2026-06-16 09:00",
        "url": "/monitoring/alerts/1/",
    },
)
register_template(
    "monitoring.alert_escalated",
    name=str(_("预警超时升级")),
    subject=str(_("【升级】{{ rule_name }}（{{ customer_name }}）")),
    body=str(
        _(
            "预警“{{ rule_name }}”（{{ severity }}，客户 {{ customer_name }}，贷款 {{ loan_number }}）已升级给您：{{ note }} 请在 {{ due_at }} 前处理。"
        )
    ),
    channels=_STAFF_CHANNELS,
    sample={
        "severity": "严重",
        "rule_name": "被列为被执行人",
        "customer_name": "太原示例商贸有限公司",
        "loan_number": "L000001",
        "assignee": "赵磊",
        "due_at": "2026-06-16 13:00",
        "note": "超过处理时限（2026-06-16 09:00）未处理，自动升级。",
        "url": "/monitoring/alerts/1/",
    },
)
register_template(
    "monitoring.alert_digest",
    name=str(_("预警每日汇总")),
    subject=str(_("预警每日汇总：{{ count }} 条待处理")),
    body=str(_("您有 {{ count }} 条新预警待处理（{{ day }}）：\n{{ lines }}")),
    channels=_STAFF_CHANNELS,
    sample={"count": 2, "day": "2026-06-16", "lines": "· 连续未按时足额还款｜某客户｜L000001"},
)


def _register_consumer() -> None:
    from credo.core.events.stream import register_consumer
    from credo.monitoring import sameday

    register_consumer(sameday.CONSUMER, sameday.handle, actions=sameday.sameday_actions)


_register_consumer()
