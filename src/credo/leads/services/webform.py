"""Public web form counters and follow-up reminders."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from credo.core import clock
from credo.leads.models import Lead, WebFormCounter


# --- public web form counters --------------------------------------------------------------------
def webform_count(*, kind: str, day: dt.date | None = None) -> None:
    """Count an accepted or rejected public-form submission (nothing else is stored for spam)."""
    from django.db.models import F

    if kind not in ("accepted", "honeypot", "rate_limited"):
        raise ValueError(kind)
    day = day or clock.today()
    with transaction.atomic():
        counter, _created = WebFormCounter.objects.get_or_create(day=day)
        WebFormCounter.objects.filter(pk=counter.pk).update(**{kind: F(kind) + 1})


def follow_up_reminders_send(today: dt.date | None = None) -> int:
    """Notify the owner of every open lead whose next follow-up date is ``today``; the
    dedupe key makes a re-run of the same day send nothing new."""
    from credo.notify.services import notify

    today = today or clock.today()
    sent = 0
    for lead in (
        Lead.objects.filter(stage__in=Lead.OPEN_STAGES, next_follow_up=today, owner__isnull=False)
        .select_related("owner")
        .iterator(chunk_size=500)
    ):
        messages = notify(
            template="leads.follow_up_due",
            context={"lead": lead.name, "date": today.isoformat()},
            user=lead.owner,
            dedupe_key=f"lead-follow-up:{lead.pk}:{today.isoformat()}",
            url=f"/leads/{lead.pk}/",
        )
        sent += 1 if messages else 0
    return sent
