"""Notification templates origination sends (correction notice, portal application)."""

from django.utils.translation import gettext_lazy as _

from credo.notify.services import register_template

register_template(
    "origination.correction_notice",
    name=str(_("补正通知")),
    subject="贷款申请 {{ number }} 补正通知",
    body="您的贷款申请 {{ number }} 需要补充或更正以下资料：{{ items }}。"
    "{% if note %}说明：{{ note }}。{% endif %}请通过客户经理发送的链接上传。",
    channels=["sms", "email", "inapp"],
    sample={"number": "A202612010001", "items": "营业执照、近六个月银行流水", "note": ""},
)
register_template(
    "origination.portal_application",
    name=str(_("客户在线发起申请")),
    subject="客户在线发起贷款申请 {{ number }}",
    body="客户 {{ customer }} 通过在线申请链接发起了贷款申请 {{ number }}："
    "{{ amount }} 元，{{ months }} 个月。请跟进资料上传与提交。",
    channels=["inapp"],
    sample={
        "number": "A202612010001",
        "customer": "太原示例有限公司",
        "amount": "300,000.00",
        "months": 12,
    },
)
