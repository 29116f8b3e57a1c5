"""The LPR repricing after-close job (日终后续作业 "LPR 重定价")."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from credo.lending.rates.services import reprice_due_loans

RESULT_LABELS = {
    "repriced": _("已重定价"),
    "unchanged": _("利率未变"),
    "failed": _("失败"),
}


def lpr_repricing(run: Any) -> dict[str, int]:
    """Reprice the floating loans whose repricing date is the run's business date."""
    return reprice_due_loans(run.business_date)
