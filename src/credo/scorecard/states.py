"""The scorecard version state machine (registered with :mod:`credo.core.fsm`).

``Scorecard.status``: a version is created 训练中 (training); the job ends it as a draft (the
model is stored) or as failed. A draft is published — which retires the version published before,
one published version at a time — or discarded (retired); a failed version can only be retired.
Retired is final. It is the draft → published → retired pattern of
:mod:`credo.core.versioning` with the training states in front, but there is no parent row
(one published scorecard for the whole lender) and publishing also bumps ``version`` and writes
``retired_at``, so :mod:`credo.scorecard.services.versions` drives it with :func:`fsm.transition`.
"""

from __future__ import annotations

from credo.core import fsm
from credo.scorecard.models import Scorecard

S = Scorecard.Status

SCORECARD_MACHINE = fsm.machine(
    Scorecard,
    {
        S.TRAINING: {S.DRAFT, S.FAILED},
        S.FAILED: {S.RETIRED},
        S.DRAFT: {S.PUBLISHED, S.RETIRED},
        S.PUBLISHED: {S.RETIRED},
        S.RETIRED: set(),
    },
    initial={S.TRAINING},
    choices=S,
    note="training → draft / failed; draft → published; draft, failed, published → retired",
)
