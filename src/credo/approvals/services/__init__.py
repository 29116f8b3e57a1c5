"""Approval flows: start an instance, act on tasks, resume after a return, escalate overdue tasks,
and edit/publish flow versions.

Semantics (documented for the apps that use this one):

* A step lists approver entries ("slots"): ``{"role": code}`` or ``{"user": username}``. A role
  slot gets one task per holder of the role (the applicant excluded; for ``branch_scoped`` steps
  the holders in the applicant's branch are preferred). Within a slot the first approval fills
  the slot and the slot's other tasks are skipped.
* ``{"manager": role code}`` is the applicant's manager: holders of that role in the owner's
  team, else in the owner's branch. A step's optional ``condition`` (a ZEN expression over the
  approval elements, ``amount_yuan`` of the amount now under approval) skips the step when false
  (logged as a skipped ``step_done``); one that cannot be evaluated keeps the step. Every route
  with steps has at least one unconditional step. See ``approvals.designer``.
* 会签 ``mode="all"``: the step completes when every slot is approved.
  或签 ``mode="any"``: the step completes with the first approval (other tasks skipped).
  In both modes one rejection rejects the whole instance.
* 退回补充 ``return``: the instance waits for the applicant's answer (``approval_resume``); the
  same step then restarts from scratch (approvals given before the answer do not count).
* Refused actions raise ``ApprovalError`` (Chinese ``message``), change nothing and are audited
  as ``approval.refused`` (metadata: action, code, message and, for a conflict, reason).
* Segregation of duties (``selectors.approval_conflicts``): the instance's owner (applicant),
  the subject's creator and the submitter never get, take, receive by transfer or act on a task
  of the instance; unless the flow version sets ``allow_same_approver_across_steps: true``,
  neither does whoever decided an earlier step, and one person fills at most one 会签 slot.
  A slot whose every candidate must stay away goes to the step's ``escalate_to``; when nobody
  is left there either, the action that opens the step is refused (``no_approver``).

The services live in submodules by use case — ``flows`` (default flows, definitions, versions),
``start``, ``act``, ``resume`` (resume and cancel), ``escalation``; ``steps`` and ``listeners``
hold what they share. This package re-exports the public services.
"""

from credo.approvals.services.act import ACTIONS, approval_act
from credo.approvals.services.escalation import approvals_escalate_overdue
from credo.approvals.services.flows import (
    ensure_default_flows,
    ensure_flow,
    flow_version_create,
    flow_version_publish,
    flow_version_update,
    validate_definition,
)
from credo.approvals.services.listeners import (
    Listener,
    register_outcome_listener,
    unregister_outcome_listener,
)
from credo.approvals.services.resume import approval_cancel, approval_resume
from credo.approvals.services.start import ROUTE_DECISION, approval_start
from credo.approvals.states import ACTIVE_STATES

__all__ = [
    "ACTIONS",
    "ACTIVE_STATES",
    "ROUTE_DECISION",
    "Listener",
    "approval_act",
    "approval_cancel",
    "approval_resume",
    "approval_start",
    "approvals_escalate_overdue",
    "ensure_default_flows",
    "ensure_flow",
    "flow_version_create",
    "flow_version_publish",
    "flow_version_update",
    "register_outcome_listener",
    "unregister_outcome_listener",
    "validate_definition",
]
