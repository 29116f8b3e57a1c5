"""The allowed status transitions of contracts (credo.core.fsm).

draft → sent → signed | rejected | expired; draft/sent → cancelled. A provider's repeated
callback for the current state is a no-op, not a transition.
"""

from __future__ import annotations

from credo.contracts.models import Contract
from credo.core import fsm

C = Contract.Status

CONTRACT = fsm.machine(
    Contract,
    {
        C.DRAFT: {C.SENT, C.CANCELLED},
        C.SENT: {C.SIGNED, C.REJECTED, C.EXPIRED, C.CANCELLED},
    },
    initial={C.DRAFT},
    choices=C,
    note="contracts.services",
)

# The states a contract may still be cancelled from (``Contract.is_open``).
OPEN_STATES: tuple[str, ...] = tuple(CONTRACT.sources_of(C.CANCELLED))
