"""The figures of one loan as ``credo loan show`` and the API give them: status, DPD,
classification, what is owed and every installment. Money as strings in yuan ("1234.50")."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from credo.lending.allocation import due_components
from credo.lending.models import Installment, Loan
from credo.lending.schedule import fen_to_str

DUE_STATES = (Installment.Status.DUE, Installment.Status.OVERDUE)
OPEN_STATES = (Installment.Status.SCHEDULED, *DUE_STATES)


def loan_show_data(loan: Loan) -> dict[str, Any]:
    """``overdue_principal``: principal owed on 逾期 installments; ``interest_due``: interest
    owed on installments already due (到期/逾期); ``penalty_due``: 罚息 owed on every open
    installment (it accrues on overdue ones); as of the loan's last close of business."""
    rows = list(loan.installments.order_by("period"))
    overdue_principal = interest_due = penalty_due = fee_due = 0
    for inst in rows:
        owed = due_components(inst)
        if inst.status == Installment.Status.OVERDUE:
            overdue_principal += owed["principal"]
        if inst.status in DUE_STATES:
            interest_due += owed["interest"]
            fee_due += owed["fee"]
        if inst.status in OPEN_STATES:
            penalty_due += owed["penalty"]
    status_labels = dict(Loan.Status.choices)
    class_labels = dict(Loan.Classification.choices)
    inst_labels = dict(Installment.Status.choices)
    return {
        "number": loan.number,
        "customer": loan.customer.name,
        "status": loan.status,
        "status_label": str(status_labels.get(loan.status, loan.status)),
        "dpd": loan.dpd,
        "classification": loan.classification,
        "classification_label": str(class_labels.get(loan.classification, loan.classification)),
        "principal": fen_to_str(loan.principal.fen),
        "annual_rate": str(loan.annual_rate.normalize()),
        "months": loan.months,
        "method": loan.method,
        "start_date": loan.start_date.isoformat() if loan.start_date else None,
        "maturity_date": loan.maturity_date.isoformat() if loan.maturity_date else None,
        "last_eod_date": loan.last_eod_date.isoformat() if loan.last_eod_date else None,
        "outstanding_principal": fen_to_str(loan.outstanding_principal.fen),
        "overdue_principal": fen_to_str(overdue_principal),
        "interest_due": fen_to_str(interest_due),
        "fee_due": fen_to_str(fee_due),
        "penalty_due": fen_to_str(penalty_due),
        "credit_balance": fen_to_str(loan.credit_balance.fen),
        "installments": [
            {
                "period": i.period,
                "due_date": i.due_date.isoformat(),
                "status": i.status,
                "status_label": str(inst_labels.get(i.status, i.status)),
                **{
                    f"{c}_{s}": fen_to_str(getattr(i, f"{c}_{s}").fen)
                    for c in ("principal", "interest", "penalty")
                    for s in ("due", "paid")
                },
                "paid_on": i.paid_on.isoformat() if i.paid_on else None,
            }
            for i in rows
        ],
    }


def loan_show_table(data: dict[str, Any]) -> str:
    """The same figures as a plain-text table with Chinese labels."""
    head = [
        (_("贷款编号"), data["number"]),
        (_("客户"), data["customer"]),
        (_("状态"), data["status_label"]),
        (_("逾期天数"), str(data["dpd"])),
        (_("五级分类"), data["classification_label"]),
        (_("贷款本金"), data["principal"]),
        (_("剩余本金"), data["outstanding_principal"]),
        (_("逾期本金"), data["overdue_principal"]),
        (_("应还利息"), data["interest_due"]),
        (_("罚息"), data["penalty_due"]),
        (_("溢缴款"), data["credit_balance"]),
        (_("起息日"), data["start_date"] or "—"),
        (_("到期日"), data["maturity_date"] or "—"),
        (_("最近日终"), data["last_eod_date"] or "—"),
    ]
    width = max(_display_width(label) for label, _v in head)
    lines = [f"{_pad(label, width)}  {value}" for label, value in head]
    columns = [
        (_("期数"), "period"),
        (_("还款日"), "due_date"),
        (_("状态"), "status_label"),
        (_("应还本金"), "principal_due"),
        (_("已还本金"), "principal_paid"),
        (_("应还利息"), "interest_due"),
        (_("已还利息"), "interest_paid"),
        (_("罚息"), "penalty_due"),
        (_("已还罚息"), "penalty_paid"),
    ]
    table = [[label for label, _k in columns]] + [
        [str(inst[key]) for _l, key in columns] for inst in data["installments"]
    ]
    widths = [max(_display_width(row[i]) for row in table) for i in range(len(columns))]
    lines.append("")
    for row in table:
        lines.append("  ".join(_pad(cell, widths[i], right=i > 2) for i, cell in enumerate(row)))
    return "\n".join(lines)


def _display_width(text: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int, *, right: bool = False) -> str:
    fill = " " * max(0, width - _display_width(text))
    return fill + text if right else text + fill
