"""The close of business's shared vocabulary: counts, the 五级分类 thresholds, its errors and the
registry of the after-close jobs run once a business date's run is done."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise

from credo.core.registry import Registry
from credo.lending.errors import LendingError
from credo.lending.models import EodRun, Installment, Loan

UNPAID_DUE = (Installment.Status.DUE, Installment.Status.OVERDUE)
CLASSIFICATION_ENV = "CREDO_CLASSIFICATION_DPD"
# 《商业银行金融资产风险分类办法》(2023) 第十一条: 关注 any DPD, 次级 > 90, 可疑 > 270, 损失 > 360
CLASSIFICATION_DEFAULT = "1,91,271,361"
COUNT_KEYS = (
    "loans",
    "installments_due",
    "installments_overdue",
    "became_overdue",
    "cured",
    "penalty_fen",
    "credit_applied_fen",
    "classification_changes",
    "paid_off",
)

Label = str | Promise  # a display name, usually gettext_lazy(...)
AfterCloseFn = Callable[[EodRun], Mapping[str, Any] | None]


@dataclass(frozen=True)
class AfterCloseJob:
    """One downstream job of the close of business (see :func:`register_after_close_job`)."""

    key: str
    fn: AfterCloseFn
    label: Label
    order: int = 100
    # Chinese display names of the counts ``fn`` returns (the runs page never shows raw keys)
    result_labels: Mapping[str, Label] = field(default_factory=dict)


# keyed by the job's key; a re-registration (an app's ready() run twice, a test's stand-in)
# replaces the earlier one
after_close_jobs: Registry[AfterCloseJob] = Registry("after-close jobs", on_duplicate="replace")


class EodError(LendingError):
    code = "eod_error"


def register_after_close_job(
    key: str,
    fn: AfterCloseFn,
    *,
    label: Label,
    order: int = 100,
    result_labels: Mapping[str, Label] | None = None,
) -> AfterCloseFn:
    """Register a downstream job of the close of business (日终后续作业).

    When a business date's run becomes DONE, one :class:`~credo.lending.models.EodJob` row per
    registered job is created and ``fn(run)`` is called for it — inline in ``order`` (then
    registration order), or as one ``credo.lending.tasks.eod_job`` task each on the ``batch``
    queue (several workers run them in parallel). ``label`` is the Chinese display name (pass a
    lazy ``gettext_lazy`` string); ``result_labels`` names the counts ``fn`` may return
    (``{"opened": 12}`` is shown as 新开案件 12 when ``result_labels={"opened": _("新开案件")}``).

    Contract:

    * The close of business only marks the day: a job failing never fails the run nor blocks
      the other jobs. Its exception marks only its own job FAILED (with the error); it is retried
      automatically (up to ``CREDO_TASK_MAX_ATTEMPTS`` attempts), by 重试 on the run page, and by
      running the close of business for the date again.
    * **Idempotent per business date**: a DONE job is never run again, but a failed or
      interrupted one is — so ``fn`` must be safe to re-run for the same ``run.business_date``
      (upserts keyed by the date, "already done for this date" checks, no blind inserts).
    * ``fn`` runs outside any transaction of the close; it opens its own (``transaction.atomic``)
      as its work needs. Inline its work is wrapped in a savepoint, so a failure rolls back only
      its own writes.
    * Catching up several missed days runs every job for each day in date order.
    * It returns ``None`` or a mapping of counts (JSON-serialisable) shown on the run page.
    """
    after_close_jobs.register(
        key,
        AfterCloseJob(
            key=key, fn=fn, label=label, order=order, result_labels=dict(result_labels or {})
        ),
    )
    return fn


def unregister_after_close_job(key: str) -> None:
    after_close_jobs.unregister(key)


def after_close_job_list() -> list[AfterCloseJob]:
    """The registered jobs in run order: ``order``, then registration order."""
    jobs = list(after_close_jobs)
    return sorted(jobs, key=lambda j: (j.order, jobs.index(j)))


def classification_thresholds() -> tuple[int, int, int, int]:
    """DPD from which a loan is 关注 / 次级 / 可疑 / 损失 (env ``CREDO_CLASSIFICATION_DPD``)."""
    raw = os.environ.get(CLASSIFICATION_ENV, "").strip() or CLASSIFICATION_DEFAULT
    try:
        values = tuple(int(p) for p in raw.split(","))
    except ValueError:
        values = ()
    if len(values) != 4 or not 0 < values[0] < values[1] < values[2] < values[3]:
        raise EodError(
            f"{CLASSIFICATION_ENV}={raw!r} 格式错误：应为 4 个递增的正整数（关注、次级、可疑、"
            f"损失的起始逾期天数），例如 {CLASSIFICATION_DEFAULT}"
        )
    return values  # type: ignore[return-value]


def classify(dpd: int, thresholds: tuple[int, int, int, int] | None = None) -> str:
    t = thresholds or classification_thresholds()
    levels = (
        Loan.Classification.SPECIAL_MENTION,
        Loan.Classification.SUBSTANDARD,
        Loan.Classification.DOUBTFUL,
        Loan.Classification.LOSS,
    )
    result: str = Loan.Classification.NORMAL
    for threshold, level in zip(t, levels, strict=True):
        if dpd >= threshold:
            result = level
    return result


def empty_counts() -> dict[str, int]:
    return dict.fromkeys(COUNT_KEYS, 0)
