"""Monthly population stability (PSI) of the published version, with alerts."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.scorecard import engine
from credo.scorecard.models import ApplicationScore, PsiCheck, Scorecard
from credo.scorecard.services.config import (
    psi_alert_limit,
)
from credo.scorecard.services.scoring import _with_model, published


# --- stability -----------------------------------------------------------------------------
def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def psi_check(
    month: dt.date | None = None, *, scorecard: Scorecard | None = None, min_count: int = 30
) -> PsiCheck | None:
    """PSI of one month's application scores (default: last month) against the training
    distribution of the published version; above the limit → alert the scorecard managers.
    Re-running a month updates its row and never alerts twice."""
    card = scorecard or published()
    if card is None:
        return None
    card = _with_model(card)
    month = _month_start(month or (_month_start(clock.today()) - dt.timedelta(days=1)))
    nxt = (month + dt.timedelta(days=32)).replace(day=1)
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(month, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(nxt, dt.time.min, tzinfo=tz)
    scores = list(
        ApplicationScore.objects.filter(
            scorecard=card, created_at__gte=start, created_at__lt=end
        ).values_list("score", flat=True)
    )
    baseline = (card.model.get("metrics") or {}).get("psi_baseline") or {}
    edges, expected = baseline.get("edges") or [], baseline.get("shares") or []
    value: float | None = None
    actual: list[float] = []
    note = ""
    if not edges or not expected:
        note = str(_("模型没有训练分布，无法计算 PSI。"))
    elif len(scores) < min_count:
        note = str(
            _("样本不足（%(n)s < %(m)s），本月不计算 PSI。") % {"n": len(scores), "m": min_count}
        )
    else:
        actual = engine.shares(scores, edges)
        value = round(engine.psi(expected, actual), 4)
    with transaction.atomic():
        check, _created = PsiCheck.objects.select_for_update().get_or_create(
            scorecard=card, month=month
        )
        check.n, check.psi, check.shares, check.note = len(scores), value, actual, note
        alert = value is not None and value > psi_alert_limit() and not check.alerted
        if alert:
            check.alerted = True
        check.save()
        audit_record(
            action="scorecard.psi",
            obj=card,
            metadata={"month": month.isoformat(), "n": len(scores), "psi": value},
        )
        if alert:
            transaction.on_commit(lambda: _psi_alert(card, check))
    return check


def _psi_alert(card: Scorecard, check: PsiCheck) -> None:
    from django.urls import reverse

    from credo.accounts.models import User
    from credo.core.todo.services import todo_create
    from credo.notify.services import notify

    url = reverse("scorecard:detail", args=[card.pk])
    title = _("评分卡 %(c)s 稳定性预警：%(m)s PSI %(p)s 超过 %(l)s") % {
        "c": str(card),
        "m": check.month.strftime("%Y-%m"),
        "p": f"{check.psi:.3f}",
        "l": psi_alert_limit(),
    }
    users = (
        User.objects.filter(is_active=True)
        .filter(
            Q(is_superuser=True)
            | Q(
                roles__permissions__content_type__app_label="scorecard",
                roles__permissions__codename="publish_scorecard",
            )
        )
        .distinct()
        .order_by("id")
    )
    for user in users:
        todo_create(
            user=user,
            title=title,
            description=str(
                _("近一个月申请客群的评分分布与训练样本差异显著，请复核模型或重新训练。")
            ),
            url=url,
            source="scorecard",
            dedupe_key=f"scorecard-psi:{card.pk}:{check.month.isoformat()}",
        )
        notify(
            template="scorecard.psi_alert",
            context={"title": title, "url": url},
            user=user,
            dedupe_key=f"scorecard-psi:{card.pk}:{check.month.isoformat()}:{user.pk}",
            url=url,
        )
