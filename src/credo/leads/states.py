"""The lead stage machine (registered with :mod:`credo.core.fsm`, ``field="stage"``).

``Lead.stage``: a lead is created 新线索 (new). Working it moves it along new → contacted ⇄
qualified (a qualified lead may go back to contacted); any open lead may be lost (with a reason,
also how a merged duplicate is closed) or converted to a customer. Converted and lost are final.
People change stages by hand only within :data:`TRANSITIONS` — "converted" is reached only through
``lead_convert``.
"""

from __future__ import annotations

from credo.core import fsm
from credo.leads.models import Lead

Stage = Lead.Stage

LEAD_MACHINE = fsm.machine(
    Lead,
    {
        Stage.NEW: {Stage.CONTACTED, Stage.QUALIFIED, Stage.LOST, Stage.CONVERTED},
        Stage.CONTACTED: {Stage.QUALIFIED, Stage.LOST, Stage.CONVERTED},
        Stage.QUALIFIED: {Stage.CONTACTED, Stage.LOST, Stage.CONVERTED},
        Stage.CONVERTED: set(),
        Stage.LOST: set(),
    },
    initial={Stage.NEW},
    field="stage",
    choices=Stage,
    note="new → contacted ⇄ qualified; open → lost / converted (converted only by lead_convert)",
)

# The moves offered to people (lead_change_stage, the detail page): the table without
# "converted", which only lead_convert reaches.
TRANSITIONS: dict[str, set[str]] = {
    state: set(LEAD_MACHINE.targets(state)) - {Stage.CONVERTED}
    for state in sorted(LEAD_MACHINE.states)
}
