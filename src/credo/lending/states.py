"""Every status field of lending and its allowed transitions (one table each, :mod:`credo.core.fsm`).

Services change a status only through ``fsm.transition`` (one row) or
``fsm.transition_queryset`` (set-based, the close of business). The tables are the business
rules; ``tests/lending/test_states.py`` lists them literally.

* Loan: 待放款 → 正常 (放款); 正常 ⇄ 逾期 (close of business / repayment); 正常 or 逾期 → 已结清
  (repayment, prepayment, close of business) or 已核销 (write-off, final); 已结清 → 正常 / 逾期
  when a repayment is reversed (冲正). Restructuring comes with loan servicing.
* Installment: 未到期 → 已到期 → 逾期 (close of business); any unpaid → 已还清 (repayment,
  credit) or 已核销 (write-off); 已还清 → 已到期 / 未到期 when a repayment is reversed.
* EodRun / EodChunk: running → done | failed, failed → running (resume) or done (the late
  worker of an abandoned chunk finishing the date); a chunk: pending → done | failed, failed →
  pending (resume) or done.
* EodJob (an after-close job of a run): pending → running → done | failed; failed → running
  (retried) or pending (重试); pending → failed (its task given up by the reaper). A done job
  is final: never run again for the date.
* StatementLine: 未匹配 → 已匹配 → 已入账; unmatched or matched → 已忽略.
* ProductVersion: draft → published → retired (:func:`credo.core.versioning.version_machine`).
"""

from __future__ import annotations

from credo.core import fsm
from credo.core.versioning import version_machine
from credo.lending.models import (
    BookImport,
    ClassificationRequest,
    EodChunk,
    EodJob,
    EodRun,
    Installment,
    Loan,
    ProductVersion,
    RequestStatus,
    StatementLine,
    WaiverRequest,
)

L = Loan.Status
I = Installment.Status  # noqa: E741 — a table key, read as "Installment"
R = EodRun.Status
C = EodChunk.Status
J = EodJob.Status
S = StatementLine.Status

# A loan that is being repaid: repayments, write-off, statement matching and the close of
# business work on these. The one definition (reports, collections and monitoring import it).
LOAN_OPEN_STATES: tuple[str, ...] = (L.ACTIVE, L.OVERDUE)
# Open plus not yet disbursed: what draws on a credit limit.
LOAN_LIMIT_STATES: tuple[str, ...] = (L.PENDING, *LOAN_OPEN_STATES)

LOAN_MACHINE = fsm.machine(
    Loan,
    {
        L.PENDING: {L.ACTIVE},
        L.ACTIVE: {L.OVERDUE, L.PAID_OFF, L.WRITTEN_OFF},
        L.OVERDUE: {L.ACTIVE, L.PAID_OFF, L.WRITTEN_OFF},
        L.PAID_OFF: {L.ACTIVE, L.OVERDUE},
        L.WRITTEN_OFF: set(),
    },
    initial={L.PENDING},
    choices=L,
    note="放款 → 正常 ⇄ 逾期 → 已结清 / 已核销; 冲正 reopens a paid-off loan",
)

INSTALLMENT_MACHINE = fsm.machine(
    Installment,
    {
        I.SCHEDULED: {I.DUE, I.PAID, I.WRITTEN_OFF},
        I.DUE: {I.OVERDUE, I.PAID, I.WRITTEN_OFF},
        I.OVERDUE: {I.PAID, I.WRITTEN_OFF},
        I.PAID: {I.DUE, I.SCHEDULED},
        I.WRITTEN_OFF: set(),
    },
    # a prepayment writes its row already paid
    initial={I.SCHEDULED, I.PAID},
    choices=I,
    note="close of business marks due/overdue; repayments pay; 冲正 reopens",
)

EOD_RUN_MACHINE = fsm.machine(
    EodRun,
    {R.RUNNING: {R.DONE, R.FAILED}, R.FAILED: {R.RUNNING, R.DONE}, R.DONE: set()},
    initial={R.RUNNING, R.DONE},  # a date without open loans is created done
    choices=R,
    note="a failed run is resumed (重新执行)",
)

BOOK_IMPORT_MACHINE = fsm.machine(
    BookImport,
    {BookImport.Status.IMPORTED: set()},
    initial={BookImport.Status.IMPORTED},
    choices=BookImport.Status,
    note="only a written import is recorded (a rejected file writes nothing)",
)

EOD_CHUNK_MACHINE = fsm.machine(
    EodChunk,
    {C.PENDING: {C.DONE, C.FAILED}, C.FAILED: {C.PENDING, C.DONE}, C.DONE: set()},
    initial={C.PENDING},
    choices=C,
    note="abandoned by the reaper → failed; resumed with its run",
)

EOD_JOB_MACHINE = fsm.machine(
    EodJob,
    {
        J.PENDING: {J.RUNNING, J.FAILED},
        J.RUNNING: {J.DONE, J.FAILED},
        J.FAILED: {J.RUNNING, J.PENDING},
        J.DONE: set(),
    },
    initial={J.PENDING},
    choices=J,
    note="claimed → done | failed; a failed job is retried (automatically, 重试, a re-run)",
)

STATEMENT_LINE_MACHINE = fsm.machine(
    StatementLine,
    {
        S.UNMATCHED: {S.MATCHED, S.IGNORED},
        S.MATCHED: {S.POSTED, S.IGNORED},
        S.POSTED: set(),
        S.IGNORED: set(),
    },
    initial={S.UNMATCHED, S.MATCHED, S.IGNORED},  # matched (or a duplicate) on import
    choices=S,
    note="matched lines are posted as repayments",
)

PRODUCT_VERSION_MACHINE = version_machine(ProductVersion, choices=ProductVersion.Status)

# 展期/重组/借新还旧 (credo.lending.restructure): requested → approved (the approval flow) →
# executed; requested → rejected / cancelled; an approved request not yet executed may still be
# cancelled (e.g. the loan was paid off meanwhile).
from credo.lending.models import Restructuring as _Restructuring  # noqa: E402

RS = _Restructuring.Status
RESTRUCTURING_MACHINE = fsm.machine(
    _Restructuring,
    {
        RS.REQUESTED: {RS.APPROVED, RS.REJECTED, RS.CANCELLED},
        RS.APPROVED: {RS.EXECUTED, RS.CANCELLED},
        RS.EXECUTED: set(),
        RS.REJECTED: set(),
        RS.CANCELLED: set(),
    },
    initial={RS.REQUESTED},
    choices=RS,
    note="申请 → 审批通过 → 执行; 拒绝 / 撤销",
)

# Servicing approvals (maker-checker): 待审批 → 已批准 (applied in the same transaction) /
# 已拒绝 / 已撤回 (by the requester). Decided requests are final.
_RQ = RequestStatus
_REQUEST_TABLE = {
    _RQ.REQUESTED: {_RQ.APPROVED, _RQ.REJECTED, _RQ.CANCELLED},
    _RQ.APPROVED: set(),
    _RQ.REJECTED: set(),
    _RQ.CANCELLED: set(),
}
WAIVER_REQUEST_MACHINE = fsm.machine(
    WaiverRequest,
    _REQUEST_TABLE,
    initial={_RQ.REQUESTED},
    choices=_RQ,
    note="罚息减免: 申请 → 第二人审批（批准即入账）/ 拒绝 / 申请人撤回",
)
CLASSIFICATION_REQUEST_MACHINE = fsm.machine(
    ClassificationRequest,
    _REQUEST_TABLE,
    initial={_RQ.REQUESTED},
    choices=_RQ,
    note="人工分类调整: 申请 → 第二人审批（批准即生效）/ 拒绝 / 申请人撤回",
)

# 会计期间 (credo.lending.books): 未结账 → 已结账 (finance, after the month's last close of
# business); 已结账 → 反结账待审批 (requested) → 未结账 (a second person approves) or back to
# 已结账 (rejected or withdrawn). Only the latest closed month may be reopened.
from credo.lending.books.models import AccountingPeriod as _AccountingPeriod  # noqa: E402

_AP = _AccountingPeriod.Status
ACCOUNTING_PERIOD_MACHINE = fsm.machine(
    _AccountingPeriod,
    {
        _AP.OPEN: {_AP.CLOSED},
        _AP.CLOSED: {_AP.REOPENING},
        _AP.REOPENING: {_AP.OPEN, _AP.CLOSED},
    },
    initial={_AP.OPEN},
    choices=_AP,
    note="结账 → 申请反结账 → 第二人审批（恢复未结账）/ 驳回或撤回（仍为已结账）",
)
