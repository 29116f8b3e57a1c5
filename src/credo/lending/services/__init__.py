"""Every write to loans: keyword-only, one transaction, row-locked, audited, on the timeline.

* :mod:`.loans` — creating a loan (from origination, or directly: 新建贷款), its number;
* :mod:`.disbursement` — 放款 with maker-checker and the value-date window;
* :mod:`.repayment` — 还款 and 冲正;
* :mod:`.write_off` — 核销.

Allocation and "amount owed" live in :mod:`credo.lending.allocation`, the status tables in
:mod:`credo.lending.states`. This package re-exports the public services.
"""

from __future__ import annotations

from credo.core.money import Money
from credo.lending.allocation import (
    COMPONENTS,
    allocation_preview,
    due_components,
    loan_status_after,
    penalty_for_day,
)
from credo.lending.services.disbursement import (
    BACKDATE_PERM,
    ValueDateWindow,
    backdate_days,
    check_value_date,
    loan_disburse,
    value_date_window,
)
from credo.lending.services.loans import (
    DIRECT_CREATE_PERM,
    loan_create,
    loan_create_direct,
    next_loan_number,
    require_direct_create,
)
from credo.lending.services.repayment import posting_reverse, repayment_post
from credo.lending.services.write_off import WRITE_OFF_CLASSES, loan_write_off

__all__ = [
    "BACKDATE_PERM",
    "COMPONENTS",
    "DIRECT_CREATE_PERM",
    "WRITE_OFF_CLASSES",
    "Money",
    "ValueDateWindow",
    "allocation_preview",
    "backdate_days",
    "check_value_date",
    "due_components",
    "loan_create",
    "loan_create_direct",
    "loan_disburse",
    "loan_status_after",
    "loan_write_off",
    "next_loan_number",
    "penalty_for_day",
    "posting_reverse",
    "repayment_post",
    "require_direct_create",
    "value_date_window",
]
