"""试算: the new schedule of a 展期 / 重组 / 借新还旧 request, from the loan as it is on a date.

Conventions (documented for finance users in docs/lending.md):

* the principal carried into the new schedule is all the outstanding principal: the future
  principal plus the overdue principal (overdue principal is capitalised — it was principal
  already, so no money moves);
* overdue interest, fees and 罚息, plus the interest accrued since the last due date
  (actual/360, as a prepayment quote counts it), are **kept as a separately payable amount** (one
  "重组前欠款" installment due on the first due date of the new schedule), never turned into
  principal — capitalising interest would book income that was not received;
* the new schedule starts on the execution date and keeps the loan's repayment day;
* 借新还旧: the new loan's principal is the old loan's full payoff on the date (overdue amounts
  + accrued interest + outstanding principal); its disbursement repays the old loan in full.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from credo.core.registry import Registry
from credo.lending.errors import InvalidLoan, InvalidState
from credo.lending.models import Loan, Restructuring
from credo.lending.prepay.quote import Figures, figures_on
from credo.lending.pricing import caps
from credo.lending.pricing.apr import Apr, AprError, apr_percent_str, schedule_apr
from credo.lending.restructure import rules
from credo.lending.schedule import (
    METHOD_LABELS,
    METHODS,
    Schedule,
    ScheduleError,
    add_months,
    fen_to_str,
    generate,
    period_months,
)
from credo.lending.states import LOAN_OPEN_STATES

K = Restructuring.Kind

# 年化利率 of the new schedule (issue 20): the IRR method of credo.lending.pricing over the
# borrower's flows — the new principal, then each installment with the loan's installment fee.
# Another calculation may replace it: ``annualized_rate_hooks.register("apr", fn)``.
annualized_rate_hooks: Registry[Callable[[Loan, Schedule], Decimal | None]] = Registry(
    "restructure annualized rate", on_duplicate="replace"
)


def schedule_apr_of(loan: Loan, schedule: Schedule) -> Apr:
    """The APR of ``schedule`` with the loan's installment fee (no new upfront fee)."""
    return schedule_apr(schedule, installment_fee=caps.fen(loan.installment_fee))


def annualized_rate(loan: Loan, schedule: Schedule) -> Decimal | None:
    """年化利率 (percent, two decimals) of the new schedule, None when it has none."""
    fn = annualized_rate_hooks.get("apr")
    if fn is not None:
        return fn(loan, schedule)
    try:
        return Decimal(schedule_apr_of(loan, schedule).percent_str)
    except AprError:
        return None


def check_plan_cap(loan: Loan, plan: Plan) -> Decimal | None:
    """综合融资成本上限 at restructuring: the new schedule's APR within the product's cap
    (refused with the figures in Chinese); returns the APR."""
    apr = annualized_rate(loan, plan.schedule)
    if apr is None:
        return None
    cap = caps.cap_of(loan.product_version)
    if apr > cap:
        raise caps.AprCapExceeded(
            _(
                "%(k)s后新还款计划的年化利率（IRR 法，含全部费用，单利折算）为 %(apr)s%%，"
                "超过产品规定的上限 %(cap)s%%，不能办理。"
            )
            % {"k": K(plan.kind).label, "apr": apr, "cap": apr_percent_str(cap)}
        )
    return apr


@dataclass
class Plan:
    kind: str
    on_date: dt.date
    balance: int
    arrears: dict[str, int]
    schedule: Schedule
    annual_rate: Decimal
    method: str
    months: int
    payoff: int = 0
    extend_months: int = 0
    figures: Figures | None = None
    old_terms: dict[str, Any] = field(default_factory=dict)
    new_terms: dict[str, Any] = field(default_factory=dict)

    @property
    def arrears_total(self) -> int:
        return sum(self.arrears.values())

    def as_dict(self, loan: Loan) -> dict[str, Any]:
        apr = annualized_rate(loan, self.schedule)
        return {
            "apr_warning": caps.lpr_warning(apr, self.on_date),
            "kind": self.kind,
            "on_date": self.on_date.isoformat(),
            "principal": fen_to_str(self.balance),
            "annual_rate": str(self.annual_rate),
            "annualized_rate": str(apr) if apr is not None else None,
            "method": self.method,
            "method_label": METHOD_LABELS.get(self.method, self.method),
            "months": self.months,
            "extend_months": self.extend_months,
            "maturity_date": self.schedule.due_dates[-1].isoformat(),
            "arrears": {k: fen_to_str(v) for k, v in self.arrears.items()},
            "arrears_total": fen_to_str(self.arrears_total),
            "payoff": fen_to_str(self.payoff) if self.payoff else None,
            "total_interest": fen_to_str(self.schedule.total_interest),
            "total_payment": fen_to_str(self.schedule.total_payment),
            "installments": [i.as_dict() for i in self.schedule.installments],
            "installment_fee": fen_to_str(loan.installment_fee.fen),
        }


def old_terms(loan: Loan) -> dict[str, Any]:
    return {
        "annual_rate": str(loan.annual_rate),
        "method": loan.method,
        "months": loan.months,
        "repayment_day": loan.repayment_day,
        "start_date": loan.start_date.isoformat() if loan.start_date else None,
        "maturity_date": loan.maturity_date.isoformat() if loan.maturity_date else None,
        "outstanding_principal": loan.outstanding_principal.fen,
        "status": loan.status,
        "dpd": loan.dpd,
        "classification": loan.classification,
    }


def _int(value: Any, label: str) -> int:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidLoan(_("%(f)s须为整数。") % {"f": label}) from None
    return number


def parse_terms(loan: Loan, kind: str, raw: dict[str, Any]) -> dict[str, Any]:
    """Validated new terms: 展期 {extend_months}; 重组 / 借新还旧 {annual_rate, method, months}
    (重组: each optional, defaulting to the loan's current rate / method / remaining term)."""
    if kind not in K.values:
        raise InvalidLoan(_("不支持的重组类型。"))
    if kind == K.EXTENSION:
        return {"extend_months": _int(raw.get("extend_months"), _("展期月数"))}
    terms: dict[str, Any] = {}
    rate = raw.get("annual_rate")
    if rate not in (None, ""):
        try:
            value = Decimal(str(rate).strip())
        except InvalidOperation:
            raise InvalidLoan(_("年利率格式不正确。")) from None
        if not Decimal("0") <= value <= Decimal("36"):
            raise InvalidLoan(_("年利率应在 0–36% 之间。"))
        terms["annual_rate"] = str(value)
    method = raw.get("method") or ""
    if method:
        if method not in METHODS:
            raise InvalidLoan(_("不支持的还款方式。"))
        terms["method"] = method
    if raw.get("months") not in (None, ""):
        months = _int(raw.get("months"), _("期限（月）"))
        if not 1 <= months <= 360:
            raise InvalidLoan(_("期限应为 1–360 个月。"))
        terms["months"] = months
    if kind == K.REFINANCE and "months" not in terms:
        raise InvalidLoan(_("借新还旧须填写新贷款期限。"))
    return terms


def extension_history(loan: Loan) -> tuple[int, int]:
    """(original term in months, months already extended) from the executed 展期 of the loan."""
    done = list(
        loan.restructurings.filter(kind=K.EXTENSION, status=Restructuring.Status.EXECUTED).order_by(
            "id"
        )
    )
    if not done:
        return loan.months, 0
    original = int(done[0].old_terms.get("months") or loan.months)
    return original, sum(int(r.new_terms.get("extend_months") or 0) for r in done)


def _remaining_months(loan: Loan, figures: Figures, on_date: dt.date) -> int:
    if loan.method == "bullet" or not figures.future:
        end = figures.future[-1].due_date if figures.future else (loan.maturity_date or on_date)
        return rules.months_between(on_date, max(end, on_date + dt.timedelta(days=1)))
    return len(figures.future) * period_months(loan.method)


def _repayment_day(loan: Loan) -> int | None:
    if loan.repayment_day:
        return loan.repayment_day
    return loan.start_date.day if loan.start_date else None


def build_plan(loan: Loan, kind: str, terms: dict[str, Any], on_date: dt.date) -> Plan:
    """The plan (new schedule and amounts) of ``kind`` with ``terms`` on ``on_date``."""
    if loan.status not in LOAN_OPEN_STATES:
        raise InvalidState(
            _("贷款 %(n)s 状态为“%(s)s”，不能展期、重组或借新还旧。")
            % {"n": loan.number, "s": loan.get_status_display()}
        )
    rows = list(loan.installments.order_by("period"))
    figures = figures_on(loan, on_date, rows)
    balance = figures.due["principal"] + figures.future_principal
    if balance <= 0:
        raise InvalidState(_("贷款剩余本金为 0，无需重组。"))
    arrears = {
        "interest": figures.due["interest"] + figures.accrued_interest,
        "fee": figures.due["fee"],
        "penalty": figures.due["penalty"],
    }
    remaining = _remaining_months(loan, figures, on_date)
    rate = Decimal(str(terms.get("annual_rate") or loan.annual_rate))
    method = str(terms.get("method") or loan.method)
    extend = 0
    payoff = 0
    if kind == K.EXTENSION:
        extend = int(terms["extend_months"])
        original, already = extension_history(loan)
        refusal = rules.extension_refusal(original, already, extend)
        if refusal:
            raise InvalidLoan(refusal)
        months = remaining + extend
        rate, method = loan.annual_rate, loan.method
    elif kind == K.RESTRUCTURE:
        months = int(terms.get("months") or remaining)
    else:
        months = int(terms["months"])
        payoff = figures.payoff
        balance = payoff
        arrears = dict.fromkeys(arrears, 0)
    step = period_months(method)
    if months % step:
        months += step - months % step
    try:
        schedule = generate(
            principal=balance,
            annual_rate=rate,
            months=months,
            method=method,
            start=on_date,
            repayment_day=_repayment_day(loan) if kind != K.REFINANCE else None,
        )
    except ScheduleError as exc:
        raise InvalidLoan(str(exc)) from exc
    new_terms = {
        **terms,
        "annual_rate": str(rate),
        "method": method,
        "months": months,
        "maturity_date": schedule.due_dates[-1].isoformat(),
    }
    return Plan(
        kind=kind,
        on_date=on_date,
        balance=balance,
        arrears=arrears,
        schedule=schedule,
        annual_rate=rate,
        method=method,
        months=months,
        payoff=payoff,
        extend_months=extend,
        figures=figures,
        old_terms=old_terms(loan),
        new_terms=new_terms,
    )


__all__ = ["Plan", "add_months", "build_plan", "parse_terms"]
