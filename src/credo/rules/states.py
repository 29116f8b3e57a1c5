"""The decision-version state machine (draft → published → retired), registered with
:mod:`credo.core.fsm` through :func:`credo.core.versioning.version_machine`; publishing goes
through :func:`credo.core.versioning.publish`. A draft may be discarded (a delete, not a state).
"""

from __future__ import annotations

from credo.core.versioning import version_machine
from credo.rules.models import DecisionVersion

# The shipped default decision tables (v1) are created published.
DECISION_VERSION_MACHINE = version_machine(
    DecisionVersion, choices=DecisionVersion.Status, shipped_published=True
)
