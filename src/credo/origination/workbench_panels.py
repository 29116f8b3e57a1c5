"""The 工作台 panels of origination (registered when imported from ``OriginationConfig.ready``).

客户经理: applications returned for correction and the user's applications by status (the
pipeline); 团队主管: the team's pipeline and the applications stuck for a week. Counted in one
aggregate over the same queryset as the linked list (``application_list`` with the filter).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from credo.core.ui.workbench import CARDS, WorkbenchPanel, register_workbench_panel
from credo.origination import selectors
from credo.origination.models import Application

VIEW = "origination.view_application"
STUCK_DAYS = 7  # an open application untouched for a week needs the team lead's look


def _counts(user: Any) -> dict[str, int]:
    Status = Application.Status
    agg = selectors.applications_for(user).aggregate(
        stuck=Count("id", filter=selectors.stuck_q(STUCK_DAYS)),
        **{str(s): Count("id", filter=Q(status=s)) for s in selectors.OPEN_STATUSES},
    )
    out = {k: int(v or 0) for k, v in agg.items()}
    out["correction"] = out[str(Status.RETURNED)]
    return out


def _status_rows(counts: dict[str, int], url: str) -> list[dict[str, Any]]:
    labels = dict(Application.Status.choices)
    return [
        {
            "key": f"status-{s}",
            "label": labels[s],
            "value": counts[str(s)],
            "url": f"{url}?status={s}",
        }
        for s in selectors.OPEN_STATUSES
        if counts[str(s)]
    ]


def account_manager_panel(user: Any) -> dict[str, Any]:
    counts = _counts(user)
    url = reverse("origination:list")
    return {
        "items": [
            {
                "key": "applications-correction",
                "label": _("待补充的申请"),
                "value": counts["correction"],
                "url": f"{url}?status={Application.Status.RETURNED}",
                "tone": "danger",
                "note": _("审批退回，需补充资料或说明"),
            },
            {
                "key": "applications-approval",
                "label": _("审批中"),
                "value": counts[str(Application.Status.IN_APPROVAL)],
                "url": f"{url}?status={Application.Status.IN_APPROVAL}",
            },
            {
                "key": "applications-draft",
                "label": _("草稿"),
                "value": counts[str(Application.Status.DRAFT)],
                "url": f"{url}?status={Application.Status.DRAFT}",
            },
        ],
        "rows_title": _("我的申请（按阶段）"),
        "rows": _status_rows(counts, url),
        "rows_empty": _("没有进行中的贷款申请。"),
    }


def team_lead_panel(user: Any) -> dict[str, Any]:
    counts = _counts(user)
    url = reverse("origination:list")
    return {
        "items": [
            {
                "key": "applications-stuck",
                "label": _("停滞的申请"),
                "value": counts["stuck"],
                "url": f"{url}?stuck={STUCK_DAYS}",
                "tone": "danger",
                "note": _("%(d)d 天以上无进展") % {"d": STUCK_DAYS},
            },
            {
                "key": "applications-correction",
                "label": _("待补充的申请"),
                "value": counts["correction"],
                "url": f"{url}?status={Application.Status.RETURNED}",
                "tone": "warning",
            },
        ],
        "rows_title": _("团队申请（按阶段）"),
        "rows": _status_rows(counts, url),
        "rows_empty": _("团队没有进行中的贷款申请。"),
    }


register_workbench_panel(
    WorkbenchPanel(
        "am-applications",
        _("贷款申请"),
        CARDS,
        account_manager_panel,
        permission=VIEW,
        section="account_manager",
        order=30,
    )
)
register_workbench_panel(
    WorkbenchPanel(
        "tl-applications",
        _("团队贷款申请"),
        CARDS,
        team_lead_panel,
        permission=VIEW,
        section="team_lead",
        order=20,
    )
)
