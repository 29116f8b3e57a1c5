"""Writes of the books: close a month (结账), request / approve / reject its reopening
(反结账, maker-checker), and the voucher account-code mappings. Each in one transaction,
permission-checked, row-locked (the period row: ``FOR UPDATE``; postings hold it ``FOR SHARE``,
see :mod:`credo.lending.books.guard`) and audited."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from credo.core import clock, fsm
from credo.core.audit.services import audit_record
from credo.core.registry import Registry
from credo.lending.books import selectors
from credo.lending.books.models import AccountingPeriod, PeriodBalance, VoucherAccountMap
from credo.lending.errors import InvalidLoan, InvalidState, MakerChecker, NotPermitted
from credo.lending.models import EodRun, LedgerAccount

CLOSE_PERIOD = "lending.close_period"
APPROVE_REOPEN = "lending.approve_reopen"
EXPORT_VOUCHERS = "lending.export_vouchers"
VIEW_BOOKS = "lending.view_books"

S = AccountingPeriod.Status

#: ``fn(month)`` run after a period's close has committed (month = its first day): month-end
#: work downstream of the books (监管报表, 征信报送) registers here, never blocking the close.
period_closed_hooks: Registry[Callable[[dt.date], None]] = Registry(
    "period closed hooks", on_duplicate="replace"
)


def _run_period_closed_hooks(month: dt.date) -> None:
    for key, hook in period_closed_hooks.items():
        try:
            hook(month)
        except Exception:  # noqa: BLE001 — a downstream job never undoes or fails the close
            logging.getLogger(__name__).exception("period-closed hook %s failed", key)


def _require(actor: Any, perm: str, message: str) -> None:
    if actor is None or not actor.has_perm(perm):
        raise NotPermitted(message)


def _locked_period(month: dt.date) -> AccountingPeriod:
    """The month's period row, created open if missing, locked ``FOR UPDATE``."""
    AccountingPeriod.objects.bulk_create([AccountingPeriod(month=month)], ignore_conflicts=True)
    return AccountingPeriod.objects.select_for_update().get(month=month)


def close_blockers(month: dt.date) -> list[str]:
    """Why ``month`` cannot be closed now (empty: it can)."""
    month = selectors.month_start(month)
    last = selectors.month_end(month)
    problems: list[str] = []
    if last >= clock.today():
        problems.append(
            _("会计期间 %(m)s 尚未结束（月末 %(d)s），不能结账。")
            % {"m": month.strftime("%Y-%m"), "d": last.isoformat()}
        )
    if not EodRun.objects.filter(business_date=last, status=EodRun.Status.DONE).exists():
        problems.append(
            _("%(d)s（月末最后一天）的日终批处理尚未完成，请先完成日终再结账。")
            % {"d": last.isoformat()}
        )
    from credo.lending.accruals.models import AccrualBatch  # 利息计提入账 not yet run

    if AccrualBatch.objects.filter(
        business_date__gte=month, business_date__lte=last, entry__isnull=True
    ).exists():
        problems.append(
            _("本期有尚未入账的利息计提（日终后续作业“利息计提入账”未完成），请先重试该作业。")
        )
    first = selectors.first_posting_month()
    if first is not None and first < month:
        expected = 0
        m = first
        while m < month:
            expected += 1
            m = selectors.next_month(m)
        closed = AccountingPeriod.objects.filter(month__gte=first, month__lt=month).exclude(
            status=S.OPEN
        )
        if closed.count() < expected:
            earliest_open = first
            closed_months = set(closed.values_list("month", flat=True))
            while earliest_open in closed_months:
                earliest_open = selectors.next_month(earliest_open)
            problems.append(
                _("请按顺序结账：%(m)s 尚未结账。") % {"m": earliest_open.strftime("%Y-%m")}
            )
    return problems


@transaction.atomic
def period_close(*, month: dt.date, actor: Any) -> AccountingPeriod:
    """结账: after the month's last close of business, in month order. Stores every account's
    opening, debit, credit and closing (the next month opens from them; verify compares)."""
    _require(actor, CLOSE_PERIOD, _("没有会计期间结账的权限。"))
    month = selectors.month_start(month)
    problems = close_blockers(month)
    if problems:
        raise InvalidState(problems[0])
    period = _locked_period(month)
    if period.status != S.OPEN:
        raise InvalidState(
            _("会计期间 %(m)s 已是“%(s)s”。")
            % {"m": period.label, "s": period.get_status_display()}
        )
    # computed after the lock: every posting that held the share lock has committed
    tb = selectors.trial_balance(month)
    if not tb.balanced:
        raise InvalidState(_("会计期间 %(m)s 借贷不平衡，不能结账。") % {"m": period.label})
    period.balances.all().delete()
    PeriodBalance.objects.bulk_create(
        [
            PeriodBalance(
                period=period,
                account_id=r.account_id,
                opening=r.opening,
                debit=r.debit,
                credit=r.credit,
                closing=r.closing,
            )
            for r in tb.rows
        ]
    )
    period.closed_by = actor
    period.closed_at = timezone.now()
    fsm.transition(
        period,
        S.CLOSED,
        actor=actor,
        action="period.close",
        update_fields=["closed_by", "closed_at"],
        metadata={
            "month": period.label,
            "debit": tb.totals["debit"],
            "credit": tb.totals["credit"],
            "closing": {r.code: r.closing for r in tb.rows if r.active},
        },
    )
    transaction.on_commit(lambda: _run_period_closed_hooks(month))
    return period


@transaction.atomic
def period_reopen_request(*, month: dt.date, actor: Any, reason: str) -> AccountingPeriod:
    """申请反结账 of the latest closed month; a second person approves."""
    _require(actor, CLOSE_PERIOD, _("没有申请反结账的权限。"))
    reason = (reason or "").strip()
    if not reason:
        raise InvalidLoan(_("请填写反结账原因。"))
    month = selectors.month_start(month)
    period = _locked_period(month)
    if period.status != S.CLOSED:
        raise InvalidState(
            _("会计期间 %(m)s 状态为“%(s)s”，不能申请反结账。")
            % {"m": period.label, "s": period.get_status_display()}
        )
    later = AccountingPeriod.objects.filter(month__gt=month).exclude(status=S.OPEN).first()
    if later is not None:
        raise InvalidState(
            _("请先反结账较晚的期间 %(m)s（只能反结账最近一个已结账期间）。") % {"m": later.label}
        )
    period.reopen_requested_by = actor
    period.reopen_requested_at = timezone.now()
    period.reopen_reason = reason[:300]
    period.reopen_approved_by = None
    period.reopen_approved_at = None
    fsm.transition(
        period,
        S.REOPENING,
        actor=actor,
        action="period.reopen_request",
        update_fields=[
            "reopen_requested_by",
            "reopen_requested_at",
            "reopen_reason",
            "reopen_approved_by",
            "reopen_approved_at",
        ],
        metadata={"month": period.label, "reason": reason},
    )
    return period


@transaction.atomic
def period_reopen_approve(*, month: dt.date, actor: Any, note: str = "") -> AccountingPeriod:
    """批准反结账: by someone other than the requester; the stored balances are dropped (kept
    in the audit entry) and the month takes postings again until it is closed anew."""
    _require(actor, APPROVE_REOPEN, _("没有审批反结账的权限。"))
    period = _locked_period(selectors.month_start(month))
    if period.status != S.REOPENING:
        raise InvalidState(_("会计期间 %(m)s 没有待审批的反结账申请。") % {"m": period.label})
    if period.reopen_requested_by_id == actor.pk:
        raise MakerChecker(_("反结账须由申请人以外的第二人审批。"))
    stored = {
        code: closing for code, closing in period.balances.values_list("account__code", "closing")
    }
    period.balances.all().delete()
    period.reopen_approved_by = actor
    period.reopen_approved_at = timezone.now()
    period.times_reopened += 1
    fsm.transition(
        period,
        S.OPEN,
        actor=actor,
        action="period.reopen_approve",
        update_fields=["reopen_approved_by", "reopen_approved_at", "times_reopened"],
        metadata={
            "month": period.label,
            "requested_by": period.reopen_requested_by_id,
            "reason": period.reopen_reason,
            "note": note,
            "closing_before": stored,
        },
    )
    return period


@transaction.atomic
def period_reopen_reject(*, month: dt.date, actor: Any, note: str = "") -> AccountingPeriod:
    """驳回 (an approver) or 撤回 (the requester): the month stays closed."""
    period = _locked_period(selectors.month_start(month))
    if period.status != S.REOPENING:
        raise InvalidState(_("会计期间 %(m)s 没有待审批的反结账申请。") % {"m": period.label})
    own = period.reopen_requested_by_id == getattr(actor, "pk", None)
    if not own:
        _require(actor, APPROVE_REOPEN, _("没有审批反结账的权限。"))
    fsm.transition(
        period,
        S.CLOSED,
        actor=actor,
        action="period.reopen_withdraw" if own else "period.reopen_reject",
        metadata={"month": period.label, "note": note},
    )
    return period


@transaction.atomic
def voucher_map_set(
    *, system: str, account: LedgerAccount, code: str, name: str = "", actor: Any
) -> VoucherAccountMap | None:
    """The account's code in ``system`` (empty code: back to the default export code)."""
    _require(actor, EXPORT_VOUCHERS, _("没有维护凭证科目映射的权限。"))
    from credo.lending.books.vouchers import FORMATS

    if system not in FORMATS:
        raise InvalidLoan(_("未知的财务软件：%(s)s") % {"s": system})
    code = (code or "").strip()
    existing = VoucherAccountMap.objects.filter(system=system, account=account).first()
    before = existing.code if existing else ""
    if not code:
        if existing:
            existing.delete()
        result = None
    else:
        result, _created = VoucherAccountMap.objects.update_or_create(
            system=system, account=account, defaults={"code": code[:40], "name": name[:60]}
        )
    if before != code:
        audit_record(
            action="voucher.map",
            actor=actor,
            obj=account,
            changes={"code": {"old": before, "new": code}},
            metadata={"system": system},
        )
    return result
