"""The state machine of inspections (see docs/transitions.md)."""

from credo.core.fsm import machine
from credo.fieldwork.models import Inspection

S = Inspection.Status

INSPECTION_MACHINE = machine(
    Inspection,
    {S.PLANNED: {S.COMPLETED, S.CANCELLED}},
    initial=[S.PLANNED],
    choices=S,
    note="贷后检查：待检查 → 已完成（正常/异常）；贷款结清或核销时未做的检查取消。",
)
