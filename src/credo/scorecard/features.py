"""The scorecard's feature catalogue and the two places features come from.

* ``application_features(apps)`` — the values of a submitted application (what it is scored on).
  It extends the admission input (``origination.admission.build_inputs``: pulled registry and
  litigation data win over typed-in fields) with the application's own terms.
* ``book_training_table(...)`` — the modelling table from the lender's own history: one row per
  disbursed loan with the features *as at application time* and the outcome "ever DPD ≥ N within
  M months of disbursement" (defaults 30 and 12).

Application time matters: a customer's current risk flags include "overdue", which is the
outcome itself. Loans that came from a scored application use the stored scoring inputs (the
exact snapshot); older loans are rebuilt from the customer's master data and the loan terms,
without the "overdue" flag, and the table's notes say how many were rebuilt.

A CSV from an old system may use any column names; only columns named like the catalogue below
can be scored on new applications (others fall into their missing bin, WOE 0).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.db.models import Count, F, Q
from django.utils.translation import gettext_lazy as _

from credo.core import clock
from credo.core.money import whole_yuan

YES, NO = "是", "否"

# name → (label, kind). Kinds are fixed so a column of few distinct numbers stays numeric.
CATALOGUE: dict[str, tuple[Any, str]] = {
    "kind": (_("客户类型"), "categorical"),
    "industry": (_("行业门类"), "categorical"),
    "region": (_("所在城市"), "categorical"),
    "registered_capital": (_("注册资本（元）"), "numeric"),
    "business_years": (_("成立年限（年）"), "numeric"),
    "amount": (_("申请金额（元）"), "numeric"),
    "months": (_("期限（月）"), "numeric"),
    "annual_rate": (_("年利率（%）"), "numeric"),
    "amount_to_capital": (_("申请金额/注册资本"), "numeric"),
    "litigation_count": (_("涉诉案件数"), "numeric"),
    "judgment_debtor": (_("被执行人"), "categorical"),
    "risk_flag_count": (_("风险标记数"), "numeric"),
    "overdue_loans": (_("当前逾期贷款笔数"), "numeric"),
    "prior_loans": (_("既往贷款笔数"), "numeric"),
    "product": (_("产品"), "categorical"),
    "guarantee": (_("担保方式"), "categorical"),
}
# Flags that are consequences of the outcome, never inputs.
OUTCOME_FLAGS = {"overdue"}


def labels() -> dict[str, str]:
    return {name: str(label) for name, (label, _kind) in CATALOGUE.items()}


def kinds() -> dict[str, str]:
    return {name: kind for name, (_label, kind) in CATALOGUE.items()}


def _guarantee(guarantees: Iterable[dict[str, Any]] | None) -> str:
    types = {g.get("type") for g in (guarantees or []) if isinstance(g, dict)}
    if "guarantor" in types and "collateral" in types:
        return str(_("保证+抵押"))
    if "collateral" in types:
        return str(_("抵押"))
    if "guarantor" in types:
        return str(_("保证"))
    return str(_("信用"))


def _flag_count(flags: Iterable[str] | None) -> int:
    return len({f for f in (flags or []) if f not in OUTCOME_FLAGS})


def _ratio(amount: Any, capital: Any) -> float | None:
    try:
        if capital is None or float(capital) <= 0:
            return None
        return round(float(amount) / float(capital), 4)
    except (TypeError, ValueError):
        return None


def _years(start: dt.date | None, on: dt.date) -> float | None:
    return None if start is None else round((on - start).days / 365.25, 2)


def _customer_part(customer: Any, on: dt.date) -> dict[str, Any]:
    capital = whole_yuan(customer.registered_capital) if customer.registered_capital else None
    return {
        "kind": customer.kind,
        "industry": customer.industry or None,
        "region": (customer.region_code or "")[:4] or None,
        "registered_capital": capital,
        "business_years": _years(customer.founded_on, on),
        "risk_flag_count": _flag_count(customer.risk_flags),
    }


def _prior_loans(customer_ids: set[int], before: dt.date | None = None) -> dict[int, int]:
    from credo.lending.models import Loan

    qs = Loan.objects.filter(customer_id__in=customer_ids, start_date__isnull=False)
    if before is not None:
        qs = qs.filter(start_date__lt=before)
    return dict(qs.values("customer_id").annotate(n=Count("id")).values_list("customer_id", "n"))


SCORING_FIELDS = (
    "id",
    "number",
    "customer_id",
    "amount",
    "months",
    "annual_rate",
    "guarantees",
    "product_version__product__code",
    "customer__kind",
    "customer__industry",
    "customer__region_code",
    "customer__registered_capital",
    "customer__founded_on",
    "customer__risk_flags",
)


def applications_for_scoring(ids: Iterable[int]) -> Any:
    """Applications loaded with only what scoring reads (batch scoring, the benchmark)."""
    from credo.origination.models import Application

    return (
        Application.objects.filter(id__in=list(ids))
        .select_related("customer", "product_version__product")
        .only(*SCORING_FIELDS)
        .order_by("id")
    )


def application_features(
    applications: Sequence[Any], *, admission_inputs: Sequence[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """Feature values of applications (customer and product_version__product selected).
    ``admission_inputs`` (same order) when the caller already built them."""
    from credo.origination import admission

    apps = list(applications)
    if not apps:
        return []
    if admission_inputs is None:
        admission_inputs = admission.build_inputs(apps)
    prior = _prior_loans({a.customer_id for a in apps})
    from credo.collateral.selectors import security_types

    recorded = security_types([a.pk for a in apps])  # collateral/guarantees as records
    today = clock.today()
    rows = []
    for app, adm in zip(apps, admission_inputs, strict=True):
        row = _customer_part(app.customer, today)
        capital = adm.get("registered_capital")
        row.update(
            {
                "registered_capital": capital,
                "business_years": adm.get("business_years"),
                "amount": whole_yuan(app.amount),
                "months": app.months,
                "annual_rate": float(app.annual_rate),
                "amount_to_capital": _ratio(whole_yuan(app.amount), capital),
                "litigation_count": adm.get("litigation_count"),
                "judgment_debtor": YES if adm.get("judgment_debtor") else NO,
                "overdue_loans": adm.get("overdue_loans"),
                "prior_loans": prior.get(app.customer_id, 0),
                "product": app.product_version.product.code,
                "guarantee": _guarantee(
                    [*(app.guarantees or []), *({"type": t} for t in recorded.get(app.pk, ()))]
                ),
            }
        )
        rows.append(row)
    return rows


# --- modelling table from the book -----------------------------------------------------------
def add_months(day: dt.date, months: int) -> dt.date:
    from credo.reports.standard import add_months as _add

    return _add(day, months)


def bad_loans(
    loan_ids: Iterable[int] | None, *, dpd: int, months: int, as_of: dt.date
) -> dict[int, dt.date]:
    """Loans that reached ``dpd`` days past due on some installment within ``months`` of their
    start date (and by ``as_of``) → the date the threshold was reached.

    An installment due on d reaches DPD ``dpd`` on d + dpd unless it was fully paid by then
    (``paid_on`` ≤ d + dpd counts as paid in time for this purpose)."""
    from credo.lending.models import Installment

    late = Installment.objects.filter(
        Q(paid_on__isnull=True) | Q(paid_on__gt=F("due_date") + dt.timedelta(days=dpd)),
        due_date__lte=as_of - dt.timedelta(days=dpd),
        loan__start_date__isnull=False,
    )
    if loan_ids is not None:
        late = late.filter(loan_id__in=list(loan_ids))
    reached: dict[int, dt.date] = {}
    for loan_id, due, start in late.values_list("loan_id", "due_date", "loan__start_date"):
        hit = due + dt.timedelta(days=dpd)
        if (
            start is not None
            and hit <= add_months(start, months)
            and (loan_id not in reached or hit < reached[loan_id])
        ):
            reached[loan_id] = hit
    return reached


def book_training_table(
    *, dpd: int = 30, months: int = 12, as_of: dt.date | None = None
) -> tuple[dict[str, list[Any]], list[int], list[str], dict[str, Any]]:
    """(columns, target, notes, summary) for every disbursed loan whose outcome is known:
    bad as soon as the threshold was reached, good once the whole window has passed without it.
    Loans still inside their window and not bad are left out (indeterminate)."""
    from credo.lending.models import Loan
    from credo.scorecard.models import ApplicationScore

    as_of = as_of or clock.today()
    loans = list(
        Loan.objects.filter(start_date__isnull=False, start_date__lte=as_of)
        .exclude(status="pending")
        .select_related("customer", "product_version__product")
        .only(
            "id",
            "customer_id",
            "principal",
            "months",
            "annual_rate",
            "start_date",
            "product_version__product__code",
            "customer__kind",
            "customer__industry",
            "customer__region_code",
            "customer__registered_capital",
            "customer__founded_on",
            "customer__risk_flags",
        )
        .order_by("id")
    )
    bad = bad_loans(None, dpd=dpd, months=months, as_of=as_of)
    # Loans from a scored application: the snapshot taken at submission.
    snapshots: dict[int, dict[str, Any]] = {}
    for loan_id, inputs in (
        ApplicationScore.objects.filter(application__loan__isnull=False)
        .order_by("application__loan_id", "-id")
        .values_list("application__loan_id", "inputs")
    ):
        snapshots.setdefault(loan_id, inputs or {})
    prior_by_loan = _prior_counts(loans)
    rows: list[dict[str, Any]] = []
    target: list[int] = []
    indeterminate = rebuilt = 0
    for loan in loans:
        assert loan.start_date is not None
        is_bad = loan.id in bad
        if not is_bad and add_months(loan.start_date, months) > as_of:
            indeterminate += 1
            continue
        if loan.id in snapshots:
            row = dict(snapshots[loan.id])
        else:
            rebuilt += 1
            row = _customer_part(loan.customer, loan.start_date)
            amount = whole_yuan(loan.principal)
            row.update(
                {
                    "amount": amount,
                    "months": loan.months,
                    "annual_rate": float(loan.annual_rate),
                    "amount_to_capital": _ratio(amount, row["registered_capital"]),
                    "litigation_count": None,
                    "judgment_debtor": None,
                    "overdue_loans": None,
                    "prior_loans": prior_by_loan.get(loan.id, 0),
                    "product": loan.product_version.product.code,
                    "guarantee": None,
                }
            )
        rows.append(row)
        target.append(1 if is_bad else 0)
    names = list(CATALOGUE)
    columns = {name: [row.get(name) for row in rows] for name in names}
    notes = [
        str(
            _("结果定义：放款后 %(m)s 个月内曾逾期 ≥ %(d)s 天为坏样本（截至 %(a)s）。")
            % {"m": months, "d": dpd, "a": as_of.isoformat()}
        )
    ]
    if indeterminate:
        notes.append(
            str(
                _("%(n)s 笔贷款尚未满 %(m)s 个月且未逾期，结果未定，未纳入样本。")
                % {"n": indeterminate, "m": months}
            )
        )
    if rebuilt:
        notes.append(
            str(
                _(
                    "%(n)s 笔贷款没有申请时的评分快照，特征按客户资料与贷款条件重建"
                    "（不含“逾期”标记；涉诉与担保记为缺失）。"
                )
                % {"n": rebuilt}
            )
        )
    summary = {
        "loans": len(loans),
        "rows": len(rows),
        "bads": sum(target),
        "indeterminate": indeterminate,
        "rebuilt": rebuilt,
        "as_of": as_of.isoformat(),
        "dpd": dpd,
        "months": months,
    }
    return columns, target, notes, summary


def _prior_counts(loans: Sequence[Any]) -> dict[int, int]:
    """For each loan, how many loans its customer had started before it (from the list)."""
    by_customer: dict[int, list[tuple[dt.date, int]]] = defaultdict(list)
    for loan in loans:
        by_customer[loan.customer_id].append((loan.start_date, loan.id))
    prior: dict[int, int] = {}
    for items in by_customer.values():
        items.sort()
        starts = Counter[dt.date]()
        for seen, (start, loan_id) in enumerate(items):
            prior[loan_id] = seen - starts[start]
            starts[start] += 1
    return prior
