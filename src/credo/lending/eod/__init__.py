"""日终批处理 (close of business): due/overdue marking, DPD, penalty, status, classification.

One :class:`EodRun` per business date, split into :class:`EodChunk` rows by loan-id range. Each
chunk runs in its own transaction (loans row-locked, loans already closed for the date skipped),
so chunks can be shared by several workers (``credo.lending.tasks.eod_chunk``) and a re-run of a
date changes nothing.

Bulk path: the DUE/OVERDUE marking is one set-based UPDATE per chunk (per grace-days value);
per-loan Python work happens only for loans with an unpaid due installment or a non-normal
state to cure; everything else gets ``last_eod_date`` in one UPDATE.

Ledger choice: the ledger is cash-basis for interest and penalty, so the daily penalty accrual
(罚息计提) is **not** posted — it is added to the oldest overdue installment's ``penalty_due``
and recognised as ``penalty_income`` when a repayment (or credit) pays it. Applying a loan's
credit balance (溢缴款) to newly due installments *is* posted: debit ``customer_credit``,
credit the paid components. ``ledger.verify()`` stays green.
"""

from __future__ import annotations

from credo.lending.eod.common import (
    CLASSIFICATION_DEFAULT,
    CLASSIFICATION_ENV,
    COUNT_KEYS,
    AfterCloseJob,
    EodError,
    after_close_job_list,
    classification_thresholds,
    classify,
    register_after_close_job,
    unregister_after_close_job,
)
from credo.lending.eod.runs import (
    chunk_abandon,
    dates_to_run,
    last_done_date,
    process_chunk,
    run_eod,
    start_run,
)

__all__ = [
    "AfterCloseJob",
    "after_close_job_list",
    "CLASSIFICATION_DEFAULT",
    "CLASSIFICATION_ENV",
    "COUNT_KEYS",
    "EodError",
    "chunk_abandon",
    "classification_thresholds",
    "classify",
    "dates_to_run",
    "last_done_date",
    "process_chunk",
    "register_after_close_job",
    "run_eod",
    "start_run",
    "unregister_after_close_job",
]
