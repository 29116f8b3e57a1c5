"""Notification templates of the leads app."""

from django.utils.translation import gettext_lazy as _

from credo.notify.services import register_template

register_template(
    "leads.follow_up_due",
    name=str(_("线索跟进提醒")),
    subject="今日需跟进线索：{{ lead }}",
    body="线索“{{ lead }}”的计划跟进日期为 {{ date }}，请及时跟进并记录。",
    channels=["inapp", "email", "wecom", "dingtalk"],
    sample={"lead": "太原某某商贸有限公司", "date": "2026-12-01"},
)
