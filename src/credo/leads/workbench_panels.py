"""The 工作台 panels of leads (registered when imported from ``LeadsConfig.ready``).

客户经理: follow-ups due today / overdue and the open leads by stage (the pipeline); 团队主管:
the team's pipeline and the overdue follow-ups per member. Each count runs over the same
queryset as the list it links to (``lead_list`` with the same filter), in one aggregate.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from credo.core import clock
from credo.core.ui.workbench import CARDS, WorkbenchPanel, register_workbench_panel
from credo.leads import selectors
from credo.leads.models import Lead

VIEW = "leads.view_lead"


def _pipeline(user: Any, *, readable: bool) -> dict[str, int]:
    """Open leads per stage, follow-ups due today and overdue — one query."""
    today = clock.today()
    base = selectors.leads_readable(user) if readable else selectors.leads_for(user)
    open_q = Q(stage__in=Lead.OPEN_STAGES)
    agg = base.aggregate(
        today=Count("id", filter=open_q & Q(next_follow_up=today)),
        overdue=Count("id", filter=selectors.overdue_q(today)),
        **{str(s): Count("id", filter=Q(stage=s)) for s in Lead.OPEN_STAGES},
    )
    return {k: int(v or 0) for k, v in agg.items()}


def _stage_rows(counts: dict[str, int], url: str) -> list[dict[str, Any]]:
    labels = dict(Lead.Stage.choices)
    return [
        {
            "key": f"stage-{s}",
            "label": labels[s],
            "value": counts[s],
            "url": f"{url}?stage={s}",
        }
        for s in Lead.OPEN_STAGES
    ]


def account_manager_panel(user: Any) -> dict[str, Any]:
    # the list shows the scope plus the leads the user entered (read only): count the same
    counts = _pipeline(user, readable=True)
    url = reverse("leads:list")
    return {
        "items": [
            {
                "key": "followups-today",
                "label": _("今日跟进"),
                "value": counts["today"],
                "url": f"{url}?due=today",
                "tone": "warning",
            },
            {
                "key": "followups-overdue",
                "label": _("逾期跟进"),
                "value": counts["overdue"],
                "url": f"{url}?overdue=1",
                "tone": "danger",
            },
            {
                "key": "leads-open",
                "label": _("进行中的线索"),
                "value": sum(counts[s] for s in Lead.OPEN_STAGES),
                "url": f"{url}?stage=open",
            },
        ],
        "rows_title": _("我的线索（按阶段）"),
        "rows": _stage_rows(counts, url),
    }


def team_lead_panel(user: Any) -> dict[str, Any]:
    counts = _pipeline(user, readable=False)
    url = reverse("leads:list")
    members = selectors.overdue_by_owner(user)
    return {
        "items": [
            {
                "key": f"team-{row['key'].removeprefix('stage-')}",
                "label": row["label"],
                "value": row["value"],
                "url": row["url"],
            }
            for row in _stage_rows(counts, url)
        ]
        + [
            {
                "key": "team-overdue",
                "label": _("逾期跟进"),
                "value": counts["overdue"],
                "url": f"{url}?overdue=1",
                "tone": "danger",
            }
        ],
        "rows_title": _("各成员逾期跟进"),
        "rows": [
            {
                "key": f"member-{m['owner_id']}",
                "label": m["name"],
                "value": m["count"],
                "url": f"{url}?overdue=1&owner={m['owner_id']}",
                "tone": "danger",
            }
            for m in members
        ],
        "rows_empty": _("团队没有逾期的跟进。"),
    }


register_workbench_panel(
    WorkbenchPanel(
        "am-leads",
        _("线索与跟进"),
        CARDS,
        account_manager_panel,
        permission=VIEW,
        section="account_manager",
        order=20,
    )
)
register_workbench_panel(
    WorkbenchPanel(
        "tl-leads",
        _("团队线索"),
        CARDS,
        team_lead_panel,
        permission=VIEW,
        section="team_lead",
        order=10,
    )
)
