"""The state machine of data-subject requests (see docs/transitions.md)."""

from credo.core.fsm import machine
from credo.privacy.models import DataSubjectRequest

S = DataSubjectRequest.Status

REQUEST_MACHINE = machine(
    DataSubjectRequest,
    {
        S.RECEIVED: {S.HELD, S.COMPLETED, S.REJECTED},
        # Held deletions are executed when the retention basis ends (or refused on a later hold).
        S.HELD: {S.COMPLETED, S.REJECTED},
    },
    initial=[S.RECEIVED],
    choices=S,
    note="个人信息主体请求：受理 → 办结/拒绝；删除请求在法定保存期内先保留，期满自动执行。",
)
