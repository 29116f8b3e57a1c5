"""``{% load scorecard_tags %}{% application_score app %}``: the scorecard score of an application
(score, grade, version, the features that cost the most points)."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()

GRADE_BADGE = {"A": "bg-green", "B": "bg-lime", "C": "bg-yellow", "D": "bg-orange", "E": "bg-red"}


@register.inclusion_tag("scorecard/_application_score.html", takes_context=True)
def application_score(context: Any, application: Any) -> dict[str, Any]:
    from credo.scorecard.selectors import label_display, reason_text
    from credo.scorecard.services import latest_score

    request = context.get("request")
    user = getattr(request, "user", None) or context.get("user")
    scored = latest_score(application) if application is not None else None
    reasons = [
        {
            **r,
            "bin": label_display(str(r.get("feature") or ""), str(r.get("bin") or "")),
            "text": reason_text(
                str(r.get("feature") or ""), str(r.get("bin") or ""), str(r.get("label") or "")
            ),
        }
        for r in (scored.reasons if scored else [])
    ]
    return {
        "scored": scored,
        "reasons": reasons,
        "grade_badge": GRADE_BADGE.get(scored.grade, "bg-secondary") if scored else "",
        "can_view": bool(user is not None and user.has_perm("scorecard.view_scorecard")),
    }
