"""Every write to applications: keyword-only, one transaction, row-locked, audited, on the
customer timeline. Status changes happen only here, through the table in
``credo.origination.states``.

draft → submitted → admission_rejected | in_approval ⇄ returned → approved → contract_sent →
signed → loan_created; in_approval → rejected; draft/submitted/in_approval/returned → withdrawn.

One module per use-case group: ``applications`` (create), ``documents`` (upload, review,
correction notices), ``portal`` (customer links and invitations), ``submission`` (submit,
withdraw, answer), ``contract_loan`` (approval outcome, contract, loan); ``common`` holds the
shared helpers.
"""

from __future__ import annotations

from credo.origination.errors import NotAllowed
from credo.origination.services.applications import application_create
from credo.origination.services.common import (
    EDITABLE_DOCS,
    FLOW_KEY,
    SUBJECT_TYPE,
    application_url,
    checklist,
    checklist_items,
    completeness,
    outstanding_items,
)
from credo.origination.services.contract_loan import (
    application_contract_resend,
    application_create_loan,
    contract_terms,
    on_approval_outcome,
    on_contract_closed,
    on_contract_signed,
)
from credo.origination.services.documents import (
    document_review,
    document_upload,
    notice_issue,
    notify_correction,
)
from credo.origination.services.portal import (
    INVITE_NOTIFY_TEMPLATE,
    PORTAL_DAYS,
    PORTAL_INVITE_ATTEMPTS_PER_WINDOW,
    PORTAL_UPLOADS_PER_WINDOW,
    PORTAL_WINDOW,
    portal_invite_accept,
    portal_invite_create,
    portal_invite_resolve,
    portal_invite_revoke,
    portal_link_create,
    portal_link_revoke,
    portal_resolve,
    portal_submit,
    portal_upload,
)
from credo.origination.services.submission import (
    application_answer,
    application_submit,
    application_withdraw,
)
from credo.origination.states import WITHDRAWABLE

__all__ = [
    "EDITABLE_DOCS",
    "FLOW_KEY",
    "INVITE_NOTIFY_TEMPLATE",
    "PORTAL_DAYS",
    "PORTAL_INVITE_ATTEMPTS_PER_WINDOW",
    "PORTAL_UPLOADS_PER_WINDOW",
    "PORTAL_WINDOW",
    "SUBJECT_TYPE",
    "WITHDRAWABLE",
    "NotAllowed",
    "application_answer",
    "application_contract_resend",
    "application_create",
    "application_create_loan",
    "application_submit",
    "application_url",
    "application_withdraw",
    "checklist",
    "checklist_items",
    "completeness",
    "contract_terms",
    "document_review",
    "document_upload",
    "notice_issue",
    "notify_correction",
    "on_approval_outcome",
    "on_contract_closed",
    "on_contract_signed",
    "outstanding_items",
    "portal_invite_accept",
    "portal_invite_create",
    "portal_invite_resolve",
    "portal_invite_revoke",
    "portal_link_create",
    "portal_link_revoke",
    "portal_resolve",
    "portal_submit",
    "portal_upload",
]
