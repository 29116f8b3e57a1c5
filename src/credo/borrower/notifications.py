"""Notification templates of the borrower self-service."""

from django.utils.translation import gettext_lazy as _

from credo.notify.services import register_template

register_template(
    "borrower.login_code",
    name=str(_("借款人登录验证码")),
    subject="登录验证码",
    body="您的登录验证码为 {{ code }}，{{ minutes }} 分钟内有效。请勿告诉他人，工作人员不会向您索取验证码。",
    channels=["sms"],
    sample={"code": "123456", "minutes": 5},
)
register_template(
    "borrower.request_submitted",
    name=str(_("客户在线提交申请")),
    subject="客户在线提交{{ kind }} {{ number }}",
    body="客户 {{ customer }} 通过自助服务提交了{{ kind }} {{ number }}"
    "{% if loan %}（贷款 {{ loan }}）{% endif %}，请及时处理。",
    channels=["inapp"],
    sample={"number": "BR202612010001", "kind": "提前还款申请", "customer": "张三", "loan": "L1"},
)
register_template(
    "borrower.request_decided",
    name=str(_("客户自助申请处理结果")),
    subject="您的{{ kind }} {{ number }}{{ result }}",
    body="您的{{ kind }} {{ number }}{{ result }}。{% if note %}说明：{{ note }}。{% endif %}"
    "如有疑问请联系您的客户经理。",
    channels=["sms"],
    sample={"number": "BR202612010001", "kind": "提前还款申请", "result": "已受理", "note": ""},
)
