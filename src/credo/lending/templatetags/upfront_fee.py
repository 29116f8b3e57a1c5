"""The upfront fee (一次性手续费) as a separate receivable on pages: ``{% load upfront_fee %}``.

``{% upfront_fee_info loan as fee %}`` (``{% upfront_fee_info loan first as fee %}`` with the
loan's first installment when the page has it) gives ``fee.amount`` (fen), ``fee.timing_label``
(放款时收取 / 随首期还款收取 / 从放款金额中扣除（历史放款）), ``fee.status`` (a short Chinese
sentence: collected, due with installment 1, …) and ``fee.paid_out`` (fen: what the borrower
received — the full principal, or principal − fee for a historical loan). Never raises.
"""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import gettext as _

from credo.core.money import Money
from credo.lending.services.disbursement import (
    FEE_DEDUCTED,
    FEE_TIMING_LABELS,
    FEE_WITH_FIRST_INSTALLMENT,
)

register = template.Library()


def _yuan(fen: int) -> str:
    return Money.from_fen(fen).format(symbol=False)


_UNREAD = object()


@register.simple_tag
def upfront_fee_info(loan: Any, first_installment: Any = _UNREAD) -> dict[str, Any]:
    """``first_installment``: the loan's installment 1 (or None) when the page has read the
    schedule already; otherwise it is read here when needed."""
    fee = loan.upfront_fee.fen
    timing = loan.upfront_fee_timing
    principal = loan.principal.fen
    info: dict[str, Any] = {
        "amount": fee,
        "timing": timing,
        "timing_label": FEE_TIMING_LABELS.get(timing, timing),
        "paid_out": principal - fee if timing == FEE_DEDUCTED else principal,
        "status": "",
    }
    if not fee:
        info["status"] = _("无一次性手续费")
        return info
    if timing == FEE_DEDUCTED:
        info["status"] = _(
            "本贷款于手续费改为单独收取前放款，手续费已从放款金额中扣除（实付 %(p)s 元），"
            "历史分录保持不变。"
        ) % {"p": _yuan(principal - fee)}
        return info
    if loan.status == "pending":
        if timing == FEE_WITH_FIRST_INSTALLMENT:
            info["status"] = _("放款时本金全额支付；手续费计入第 1 期应还费用，随首期还款收取。")
        else:
            info["status"] = _("放款时本金全额支付；手续费由借款人于放款时另行支付。")
        return info
    if timing == FEE_WITH_FIRST_INSTALLMENT:
        first = (
            loan.installments.order_by("period").first()
            if first_installment is _UNREAD
            else first_installment
        )
        if first is not None and first.status == "paid":
            info["status"] = _("已随第 1 期还款收取（%(d)s）。") % {
                "d": first.paid_on.isoformat() if first.paid_on else ""
            }
        elif first is not None:
            info["status"] = _("应收未收：计入第 1 期应还费用，随首期还款（%(d)s）收取。") % {
                "d": first.due_date.isoformat()
            }
        return info
    info["status"] = _("已于放款日（%(d)s）由借款人另行支付（应收手续费已结清）。") % {
        "d": loan.start_date.isoformat() if loan.start_date else ""
    }
    return info
