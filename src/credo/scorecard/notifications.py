"""Notification templates of the scorecard app."""

from django.utils.translation import gettext_lazy as _

from credo.notify.services import register_template

register_template(
    "scorecard.psi_alert",
    name=str(_("评分卡稳定性预警")),
    subject="{{ title }}",
    body=str(_("{{ title }}。请复核模型或重新训练：{{ url }}")),
    channels=["inapp", "email", "wecom", "dingtalk"],
    sample={
        "title": "评分卡 v1 稳定性预警：2026-10 PSI 0.31 超过 0.25",
        "url": "/scorecard/1/",
    },
)
