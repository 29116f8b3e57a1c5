"""The allowed status transitions of borrower requests (credo.core.fsm).

submitted → accepted | rejected (staff decide once; both are final).
"""

from __future__ import annotations

from credo.borrower.models import BorrowerRequest
from credo.core import fsm

S = BorrowerRequest.Status

REQUEST = fsm.machine(
    BorrowerRequest,
    {S.SUBMITTED: {S.ACCEPTED, S.REJECTED}},
    initial={S.SUBMITTED},
    choices=S,
    note="borrower.services.request_decide",
)
