"""The allowed status transitions of collateral, guarantees and release requests (credo.core.fsm).

Collateral: draft (待登记) → registered (已登记) → released (已解押, only through an approved
release request). Guarantee: draft (待生效) → active (生效中) → released (已解除); a draft may be
released directly (the loan never came). Release request: pending → approved | rejected.
"""

from __future__ import annotations

from credo.collateral.models import Collateral, Guarantee, ReleaseRequest
from credo.core import fsm

C = Collateral.Status
G = Guarantee.Status
R = ReleaseRequest.Status

COLLATERAL = fsm.machine(
    Collateral,
    {C.DRAFT: {C.REGISTERED}, C.REGISTERED: {C.RELEASED}},
    initial={C.DRAFT, C.REGISTERED},
    choices=C,
    note="押品：待登记 → 已登记 → 已解押（解押须经第二人审批）",
)
GUARANTEE = fsm.machine(
    Guarantee,
    {G.DRAFT: {G.ACTIVE, G.RELEASED}, G.ACTIVE: {G.RELEASED}},
    initial={G.DRAFT, G.ACTIVE},
    choices=G,
    note="保证合同：待生效 → 生效中 → 已解除",
)
RELEASE = fsm.machine(
    ReleaseRequest,
    {R.PENDING: {R.APPROVED, R.REJECTED}},
    initial={R.PENDING},
    choices=R,
    note="解押申请：待审批 → 已批准 / 已驳回（审批人不得为申请人）",
)
