"""Who works a case: collectors by workload, reassignment, the tier's call scripts."""

from __future__ import annotations

import heapq
from collections import Counter
from typing import Any

from django.db import transaction
from django.db.models import (
    Count,
)
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from credo.collections.errors import InvalidInput, InvalidState
from credo.collections.models import (
    CollectionCase,
    CollectionScript,
    Tier,
)
from credo.core.audit.services import audit_record
from credo.customers.events import record_event
from credo.customers.models import CustomerEvent

SENIOR_TIERS = (Tier.SENIOR_LETTER, Tier.LEGAL)

DEFAULT_SCRIPTS: dict[str, Any] = {
    Tier.SMS: gettext_lazy("您好，您在我司的贷款已逾期，请尽快还款以免影响信用记录。"),
    Tier.CALL_JUNIOR: gettext_lazy(
        "1. 核实身份：请问是{借款人}本人吗？\n2. 告知逾期事实与金额，询问原因。\n"
        "3. 请客户给出明确还款日期与金额（承诺还款）。\n4. 提示逾期影响征信与罚息。\n"
        "禁止：威胁、辱骂、向无关第三人透露债务信息。"
    ),
    Tier.SENIOR_LETTER: gettext_lazy(
        "1. 说明逾期已超过 10 天，案件已升级。\n2. 告知我司拟委托律师发送律师函。\n"
        "3. 协商还款方案（分期/展期需走重组审批）。"
    ),
    Tier.LEGAL: gettext_lazy("案件已转入法务/委外队列，后续由法务人员处理。"),
}


def script_for(tier: str) -> str:
    script = CollectionScript.objects.filter(tier=tier).first()
    return script.text if script else str(DEFAULT_SCRIPTS.get(tier, ""))


def scripts_all() -> dict[str, str]:
    """tier → script of every tier (edited or default), one query."""
    edited = dict(CollectionScript.objects.values_list("tier", "text"))
    return {tier: edited.get(tier) or str(DEFAULT_SCRIPTS.get(tier, "")) for tier in Tier.values}


def _collectors() -> dict[str, list[Any]]:
    from credo.accounts.models import User

    out: dict[str, list[Any]] = {}
    for code in ("collector_junior", "collector_senior"):
        out[code] = list(
            User.objects.filter(is_active=True, roles__code=code).distinct().order_by("pk")
        )
    return out


class Assigner:
    """Round-robin by workload: the collector with the fewest open cases gets the next one."""

    def __init__(self) -> None:
        pools = _collectors()
        load = Counter(
            dict(
                CollectionCase.objects.exclude(status=CollectionCase.Status.CLOSED)
                .exclude(assignee=None)
                .values_list("assignee_id")
                .annotate(n=Count("id"))
                .values_list("assignee_id", "n")
            )
        )
        self.users = {u.pk: u for users in pools.values() for u in users}
        self.heaps: dict[str, list[tuple[int, int]]] = {}
        for code, users in pools.items():
            heap = [(load.get(u.pk, 0), u.pk) for u in users]
            heapq.heapify(heap)
            self.heaps[code] = heap
        self.senior_ids = {u.pk for u in pools["collector_senior"]}

    def pick(self, tier: str) -> Any:
        code = "collector_senior" if tier in SENIOR_TIERS else "collector_junior"
        heap = self.heaps.get(code) or self.heaps.get(
            "collector_junior" if code == "collector_senior" else "collector_senior"
        )
        if not heap:
            return None
        n, uid = heapq.heappop(heap)
        heapq.heappush(heap, (n + 1, uid))
        return self.users[uid]

    def fits(self, tier: str, user_id: int | None) -> bool:
        if user_id is None:
            return False
        if tier in SENIOR_TIERS and self.heaps.get("collector_senior"):
            return user_id in self.senior_ids
        return True


def team_of(user: Any) -> Any:
    return user.team if user is not None else None


@transaction.atomic
def case_reassign(*, case: CollectionCase, assignee: Any, actor: Any) -> CollectionCase:
    if assignee is None or not assignee.is_active:
        raise InvalidInput(_("请选择有效的催收员。"))
    if not ({"collector_junior", "collector_senior"} & set(assignee.role_codes)):
        raise InvalidInput(_("只能分配给催收员。"))
    case = CollectionCase.objects.select_for_update().get(pk=case.pk)
    if not case.is_open:
        raise InvalidState(_("案件已结案，不能重新分配。"))
    before = case.assignee_id
    if before == assignee.pk:
        return case
    from credo.core.todo.services import todo_cancel_by_key

    if case.assignee is not None:
        todo_cancel_by_key(user=case.assignee, dedupe_key=f"collections:case:{case.pk}")
    case.assignee = assignee
    case.team = team_of(assignee)
    case.save(update_fields=["assignee", "team", "updated_at"])
    audit_record(
        action="collections.reassign",
        actor=actor,
        obj=case,
        changes={"assignee": [before, assignee.pk]},
    )
    record_event(
        customer=case.customer,
        kind=CustomerEvent.Kind.COLLECTION,
        title=_("催收案件改派给 %(u)s") % {"u": assignee},
        actor=actor,
        source="collections",
        obj=case,
        detail={"case": case.pk, "assignee": assignee.pk},
    )
    return case


@transaction.atomic
def script_update(*, tier: str, text: str, actor: Any) -> CollectionScript:
    if tier not in Tier.values:
        raise InvalidInput(_("未知的催收阶段。"))
    text = (text or "").strip()
    if not text:
        raise InvalidInput(_("话术不能为空。"))
    script, _c = CollectionScript.objects.select_for_update().get_or_create(
        tier=tier, defaults={"text": text, "updated_by": actor}
    )
    before = script.text
    script.text = text
    script.updated_by = actor
    script.save()
    audit_record(
        action="collections.script_update",
        actor=actor,
        obj=script,
        changes={"text": [before, text]},
    )
    return script
