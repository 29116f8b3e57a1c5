"""Creating loans: from an approved application (origination) or directly (新建贷款)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from credo.core import clock, sequence
from credo.core.audit.refusals import refuse
from credo.core.audit.services import audit_record
from credo.core.money import Money
from credo.customers.events import record_event
from credo.customers.models import Customer
from credo.lending.errors import NotPermitted
from credo.lending.models import DEFAULT_ALLOCATION, Loan, ProductVersion

# 新建贷款 outside origination (no application, approval or contract): admin only by default.
DIRECT_CREATE_PERM = "lending.create_loan_directly"


def next_loan_number() -> str:
    """``L<yyyymmdd><seq>`` from the locked daily counter (call inside the creating
    transaction: concurrent creations queue on the counter row instead of colliding)."""
    return sequence.daily_number("loan", "L", day=clock.today(), numbered=Loan)


def loan_create(
    *,
    customer: Customer,
    product_version: ProductVersion,
    principal: Money,
    annual_rate: Any,
    months: int,
    actor: Any,
    repayment_day: int | None = None,
) -> Loan:
    """A loan pending disbursement for an approved application whose contract was signed
    (origination calls this), with the terms of ``product_version`` copied onto it. Staff
    creating a loan by hand go through :func:`loan_create_direct`."""
    return _loan_create(
        customer=customer,
        product_version=product_version,
        principal=principal,
        annual_rate=annual_rate,
        months=months,
        actor=actor,
        repayment_day=repayment_day,
        direct=False,
    )


def require_direct_create(actor: Any, *, customer: Customer | None = None) -> None:
    """Refuse (audited so the record survives, core.audit.refusals) an actor without
    ``lending.create_loan_directly``; the 新建贷款 page calls this before showing the form."""
    if actor is not None and actor.has_perm(DIRECT_CREATE_PERM):
        return
    refuse(
        NotPermitted(_("没有直接新建贷款（不经申请审批）的权限。")),
        action="loan.create_direct_denied",
        actor=actor,
        obj=customer,
        metadata={"permission": DIRECT_CREATE_PERM},
    )


def loan_create_direct(
    *,
    customer: Customer,
    product_version: ProductVersion,
    principal: Money,
    annual_rate: Any,
    months: int,
    actor: Any,
    repayment_day: int | None = None,
) -> Loan:
    """新建贷款 without an application, approval or contract. It skips origination, so it needs
    its own permission (``lending.create_loan_directly``); a refusal is audited and changes
    nothing, and the loan is recorded as created directly (the disbursement page says so)."""
    require_direct_create(actor, customer=customer)
    return _loan_create(
        customer=customer,
        product_version=product_version,
        principal=principal,
        annual_rate=annual_rate,
        months=months,
        actor=actor,
        repayment_day=repayment_day,
        direct=True,
    )


@transaction.atomic
def _loan_create(
    *,
    customer: Customer,
    product_version: ProductVersion,
    principal: Money,
    annual_rate: Any,
    months: int,
    actor: Any,
    repayment_day: int | None,
    direct: bool,
) -> Loan:
    pv = product_version
    from credo.lending.products import check_terms

    lpr = None
    if pv.rate_type == "lpr":  # floating: LPR in force today + the product's spread
        from credo.lending.rates.services import initial_rate

        annual_rate, lpr = initial_rate(
            tenor=pv.lpr_tenor, spread_bp=pv.spread_bp, on_date=clock.today()
        )
    principal, months, rate = check_terms(pv, amount=principal, months=months, rate=annual_rate)
    from credo.lending.limits import check_drawdown

    check_drawdown(customer, principal.fen)
    fee = Money(principal.yuan * pv.upfront_fee_rate / 100)
    from credo.lending.pricing.caps import check_terms_cap

    check_terms_cap(  # 综合融资成本上限 (issue 20): refused before anything is written
        pv,
        principal=principal.fen,
        months=months,
        annual_rate=rate,
        repayment_day=repayment_day or pv.repayment_day,
    )
    # django-stubs types MoneyField as an int field; Money is what it stores.
    loan = Loan.objects.create(  # type: ignore[misc]
        number=next_loan_number(),
        customer=customer,
        product_version=pv,
        principal=principal,
        annual_rate=rate,
        months=months,
        method=pv.method,
        rate_type=pv.rate_type,
        lpr_tenor=pv.lpr_tenor,
        spread_bp=pv.spread_bp,
        repricing=pv.repricing,
        repayment_day=repayment_day or pv.repayment_day,
        upfront_fee=fee,
        upfront_fee_timing=pv.upfront_fee_timing,
        installment_fee=pv.installment_fee,
        penalty_multiplier=pv.penalty_multiplier,
        grace_days=pv.grace_days,
        penalty_days_in_year=pv.penalty_days_in_year,
        compound_interest=pv.compound_interest,
        penalty_from=pv.penalty_from,
        holiday_rule=pv.holiday_rule,
        allocation_order=list(pv.allocation_order or DEFAULT_ALLOCATION),
        owner=customer.owner,
        team=customer.team,
        branch=customer.branch,
        created_by=actor,
    )
    if lpr is not None:
        from credo.lending.rates.services import record_initial

        record_initial(loan=loan, lpr=lpr, on_date=clock.today())
    audit_record(
        action="loan.create_direct" if direct else "loan.create",
        actor=actor,
        obj=loan,
        changes={
            "principal": [None, str(principal)],
            "annual_rate": [None, str(rate)],
            "months": [None, months],
            "product": [None, str(pv)],
        },
        metadata={"origin": "direct"} if direct else None,
    )
    title = (
        _("直接新建贷款 %(n)s（未经申请审批）：%(amt)s 元，%(m)s 个月")
        if direct
        else _("创建贷款 %(n)s：%(amt)s 元，%(m)s 个月")
    )
    record_event(
        customer=customer,
        kind="application",
        actor=actor,
        obj=loan,
        source="lending",
        title=title % {"n": loan.number, "amt": principal.format(symbol=False), "m": months},
        detail={"origin": "direct"} if direct else None,
    )
    return loan
