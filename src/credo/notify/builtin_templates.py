"""The message templates notify itself registers (the channel test message)."""

from django.utils.translation import gettext_lazy as _

from credo.notify.services import register_template

register_template(
    "notify.test",
    name=_("测试消息"),
    subject="测试消息",
    body="{{ name }}，您好：这是一条来自信贷系统的测试消息，收到即表示渠道配置正确。",
    channels=["inapp", "sms", "email", "wecom", "dingtalk"],
    sample={"name": "张三"},
)
