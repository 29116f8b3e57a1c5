"""The state machine of credit-reporting submissions (see docs/transitions.md)."""

from credo.core.fsm import machine
from credo.creditreport.models import Submission

S = Submission.Status

SUBMISSION_MACHINE = machine(
    Submission,
    {
        # a draft is regenerated (作废) or approved by a second person; an approved one is
        # marked 已报送 once the file is accepted by the credit reference system, or withdrawn
        S.DRAFT: {S.APPROVED, S.CANCELLED},
        S.APPROVED: {S.SUBMITTED, S.CANCELLED},
    },
    initial=[S.DRAFT],
    choices=S,
    note="征信报送批次：生成 → 审核（第二人）→ 已报送；未报送前可作废重新生成。",
)
