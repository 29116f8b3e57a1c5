"""Notification templates of approvals (the in-app messages sent by the services).

The templates are data, registered with the notify app when approvals is ready.
"""

from typing import Any

from django.utils.translation import gettext_lazy as _

from credo.notify.services import register_template

TEMPLATES: list[dict[str, Any]] = [
    {
        "code": "approvals.task_assigned",
        "name": _("审批待办提醒"),
        "subject": "待审批：{{ title }}",
        "body": "您有一条待审批事项：{{ title }}（{{ route }} · {{ step }}），请及时处理。",
        "channels": ["inapp"],
        "sample": {
            "title": "某某商贸 30 万经营贷",
            "route": "标准审批",
            "step": "风控经理审批",
        },
    },
    {
        "code": "approvals.returned",
        "name": _("审批退回补充提醒"),
        "subject": "审批退回补充：{{ title }}",
        "body": "“{{ title }}”在“{{ step }}”被退回，需要补充：{{ question }}",
        "channels": ["inapp"],
        "sample": {
            "title": "某某商贸 30 万经营贷",
            "step": "风控经理审批",
            "question": "请补充近半年银行流水",
        },
    },
]

for _template in TEMPLATES:
    register_template(
        _template["code"],
        name=_template["name"],
        subject=_template["subject"],
        body=_template["body"],
        channels=_template["channels"],
        sample=_template["sample"],
    )
