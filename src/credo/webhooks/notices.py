"""The message an endpoint's creator gets when it is disabled after repeated failures."""

from django.utils.translation import gettext_lazy as _

from credo.notify.services import register_template

register_template(
    "webhooks.endpoint_disabled",
    name=str(_("Webhook 端点自动停用")),
    subject="Webhook 端点“{{ name }}”已自动停用",
    body="Webhook 端点“{{ name }}”连续 {{ failures }} 次推送失败，已自动停用。最近错误：{{ error }}。"
    "请检查接收方后在“Webhook 推送”页面重新启用。",
    channels=["inapp", "email", "wecom", "dingtalk"],
    sample={"name": "核心系统", "failures": 10, "error": "接收方返回 HTTP 500。"},
)
