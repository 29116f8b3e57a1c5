"""State machines of the customers app (credo.core.fsm; docs/transitions.md)."""

from __future__ import annotations

from credo.core import fsm
from credo.customers.models import Customer, ExternalPull

# No service changes a customer's status yet (customers are created 正常; 休眠/注销 have no
# workflow): the empty table makes any change a refusal until one is designed.
CUSTOMER_MACHINE = fsm.machine(
    Customer,
    {},
    initial={Customer.Status.ACTIVE},
    choices=Customer.Status,
    note="created active; no status workflow yet (every change is refused)",
)

# The outcome of one call to an external data provider: written once, never changed.
EXTERNAL_PULL_MACHINE = fsm.machine(
    ExternalPull,
    {},
    initial=ExternalPull.Status.values,
    choices=ExternalPull.Status,
    note="the result of one provider call, written once",
)
