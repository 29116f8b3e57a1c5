"""Round-robin assignment inside a team, with a cap and an opt-out.

The choice is a pure function of a small state per candidate (:class:`Slot`), so that assigning
10,000 imported leads in memory (:func:`credo.leads.services.leads_assign_bulk`) gives exactly
the same owners as assigning them one by one (:func:`credo.leads.services.lead_assign`, which
loads the same state from the database for each lead):

* eligible: user active, taking part (no ``LeadAssignee`` row or ``active``), and below the cap
  on open leads (``max_open``; 0 = no cap);
* chosen: fewest leads assigned in the last 24 h, then least recently assigned (never first),
  then the lowest user id.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q

from credo.core.money import whole_yuan

WINDOW = dt.timedelta(hours=24)
_NEVER = dt.datetime.min.replace(tzinfo=dt.UTC)


@dataclass
class Slot:
    user_id: int
    team_id: int | None
    recent: int = 0  # leads assigned in the last 24 h
    last_at: dt.datetime | None = None
    open: int = 0  # open leads owned now
    cap: int = 0
    active: bool = True

    @property
    def available(self) -> bool:
        return self.active and (self.cap == 0 or self.open < self.cap)

    def key(self) -> tuple[int, dt.datetime, int]:
        return (self.recent, self.last_at or _NEVER, self.user_id)


@dataclass
class Planner:
    slots: dict[int, Slot] = field(default_factory=dict)
    # team id → user ids of its members (in any order; the key decides)
    members: dict[int, list[int]] = field(default_factory=dict)
    usernames: dict[str, int] = field(default_factory=dict)

    def pick_team(self, team_id: int | None) -> int | None:
        candidates = [self.slots[u] for u in self.members.get(team_id or -1, [])]
        available = [s for s in candidates if s.available]
        if not available:
            return None
        return min(available, key=Slot.key).user_id

    def choose(self, *, team_id: int | None, username: str = "") -> tuple[int | None, str]:
        """(user id or None, note). A named user wins when available; otherwise the team
        (the named user's own team when the rule gave no team) is round-robined."""
        if username:
            uid = self.usernames.get(username)
            slot = self.slots.get(uid) if uid is not None else None
            if slot is not None and slot.available:
                return slot.user_id, "user"
            if team_id is None and slot is not None:
                team_id = slot.team_id
            picked = self.pick_team(team_id)
            return picked, "user_unavailable" if picked else "none_available"
        picked = self.pick_team(team_id)
        return picked, "round_robin" if picked else "none_available"

    def commit(self, user_id: int, at: dt.datetime) -> None:
        slot = self.slots[user_id]
        slot.recent += 1
        slot.open += 1
        slot.last_at = at


def load_planner(
    *, team_ids: Iterable[int], usernames: Iterable[str] = (), now: dt.datetime
) -> Planner:
    """The current state of every member of ``team_ids`` and of the named users."""
    from credo.leads.models import Lead

    team_ids = {t for t in team_ids if t}
    usernames = {u for u in usernames if u}
    if not team_ids and not usernames:
        return Planner()
    if usernames:
        # A named user who is unavailable falls back to their own team: load it too.
        team_ids |= set(
            get_user_model()
            .objects.filter(username__in=usernames, org_unit__kind="team")
            .values_list("org_unit_id", flat=True)
        )
    users = (
        get_user_model()
        .objects.filter(Q(org_unit_id__in=team_ids) | Q(username__in=usernames))
        .select_related("lead_assignee", "org_unit")
    )
    planner = Planner()
    for user in users:
        config = getattr(user, "lead_assignee", None)
        team = user.team
        slot = Slot(
            user_id=user.pk,
            team_id=team.pk if team is not None else None,
            cap=config.max_open if config is not None else 0,
            active=bool(user.is_active and (config is None or config.active)),
        )
        planner.slots[user.pk] = slot
        planner.usernames[user.username] = user.pk
        if slot.team_id in team_ids:
            planner.members.setdefault(slot.team_id, []).append(user.pk)
    if planner.slots:
        stats = (
            Lead.objects.filter(owner_id__in=list(planner.slots))
            .values("owner_id")
            .annotate(
                recent=Count("id", filter=Q(assigned_at__gte=now - WINDOW)),
                last_at=Max("assigned_at"),
                open=Count("id", filter=Q(stage__in=Lead.OPEN_STAGES)),
            )
        )
        for row in stats:
            slot = planner.slots[row["owner_id"]]
            slot.recent, slot.last_at, slot.open = row["recent"], row["last_at"], row["open"]
    return planner


def decision_input(lead: Any) -> dict[str, Any]:
    """The data the assignment decision sees: city-level region code (the rows match cities),
    business type, amount in yuan (a number) and source channel."""
    code = lead.region_code or ""
    city = f"{code[:4]}00" if len(code) == 6 else ""
    amount = lead.requested_amount
    # Whole yuan is precise enough for routing thresholds and keeps floats out of money.
    return {
        "region": city,
        "region_code": code,
        "province": f"{code[:2]}0000" if len(code) == 6 else "",
        "business_type": lead.business_type or "",
        "amount": whole_yuan(amount),  # None → 0
        "source": lead.source or "",
    }
