"""The approval state machines: ONE transition table per status field, registered with
:mod:`credo.core.fsm` and used by every service that changes it (docs/architecture.md prints
them).

* ``ApprovalInstance.status``: an instance starts 审批中 (running). A decisive action approves
  or rejects it, 退回补充 parks it as returned until the applicant answers (back to running), and
  a running or returned instance may be withdrawn (cancelled). Approved, rejected and cancelled
  are final.
* ``ApprovalTask.status``: a task is created open and closed exactly once — approved, rejected,
  returned, transferred (a new task goes to the transfer target), escalated (new tasks go to the
  step's escalation target) or skipped (the slot/step was completed by someone else, or the
  instance ended).
* ``FlowVersion.status``: draft → published → retired (:func:`credo.core.versioning.publish`).
"""

from __future__ import annotations

from credo.approvals.models import ApprovalInstance, ApprovalTask, FlowVersion
from credo.core import fsm
from credo.core.versioning import version_machine

Instance = ApprovalInstance.Status
Task = ApprovalTask.Status

INSTANCE_MACHINE = fsm.machine(
    ApprovalInstance,
    {
        Instance.RUNNING: {
            Instance.APPROVED,
            Instance.REJECTED,
            Instance.RETURNED,
            Instance.CANCELLED,
        },
        Instance.RETURNED: {Instance.RUNNING, Instance.CANCELLED},
        Instance.APPROVED: set(),
        Instance.REJECTED: set(),
        Instance.CANCELLED: set(),
    },
    initial={Instance.RUNNING},
    choices=Instance,
    note="running → approved / rejected / returned / cancelled; returned → running / cancelled",
)

TASK_MACHINE = fsm.machine(
    ApprovalTask,
    {
        Task.OPEN: {
            Task.APPROVED,
            Task.REJECTED,
            Task.RETURNED,
            Task.TRANSFERRED,
            Task.ESCALATED,
            Task.SKIPPED,
        },
        Task.APPROVED: set(),
        Task.REJECTED: set(),
        Task.RETURNED: set(),
        Task.TRANSFERRED: set(),
        Task.ESCALATED: set(),
        Task.SKIPPED: set(),
    },
    initial={Task.OPEN},
    choices=Task,
    note="a task is created open and closed exactly once",
)

# The shipped default flow (v1) is created published.
FLOW_VERSION_MACHINE = version_machine(
    FlowVersion, choices=FlowVersion.Status, shipped_published=True
)

# an instance that still waits for someone (an approver or the applicant)
ACTIVE_STATES = (Instance.RUNNING, Instance.RETURNED)
