"""The allowed status transitions of applications and their documents (credo.core.fsm).

Application::

    draft → submitted → admission_rejected | in_approval ⇄ returned → approved → contract_sent
    → signed → loan_created; in_approval/returned (and submitted, for an approval decided
    while the submission is still being routed) → approved | rejected;
    contract_sent → approved (contract rejected or expired: a new contract may be issued);
    draft/submitted/in_approval/returned → withdrawn.

Document: pending → accepted | rejected; the latest upload may be reviewed again
(accepted ⇄ rejected).
"""

from __future__ import annotations

from credo.core import fsm
from credo.origination.models import Application, Document

S = Application.Status

APPLICATION = fsm.machine(
    Application,
    {
        S.DRAFT: {S.SUBMITTED, S.WITHDRAWN},
        S.SUBMITTED: {
            S.ADMISSION_REJECTED,
            S.IN_APPROVAL,
            S.APPROVED,
            S.REJECTED,
            S.WITHDRAWN,
        },
        S.IN_APPROVAL: {S.RETURNED, S.APPROVED, S.REJECTED, S.WITHDRAWN},
        S.RETURNED: {S.IN_APPROVAL, S.APPROVED, S.REJECTED, S.WITHDRAWN},
        S.APPROVED: {S.CONTRACT_SENT},
        S.CONTRACT_SENT: {S.SIGNED, S.APPROVED},
        S.SIGNED: {S.LOAN_CREATED},
    },
    initial={S.DRAFT},
    choices=S,
    note="origination.services",
)

D = Document.Status

DOCUMENT = fsm.machine(
    Document,
    {
        D.PENDING: {D.ACCEPTED, D.REJECTED},
        D.ACCEPTED: {D.REJECTED},
        D.REJECTED: {D.ACCEPTED},
    },
    initial={D.PENDING},
    choices=D,
    note="origination.services.documents.document_review",
)

# The states an application may be withdrawn from (the table's sources of ``withdrawn``).
WITHDRAWABLE: tuple[str, ...] = tuple(APPLICATION.sources_of(S.WITHDRAWN))
