"""Prepayment (提前还款): quote and post, partial or full.

Rules (the ones a bank engineer will check):

* Everything already due on ``on_date`` (installments with ``due_date <= on_date``, not paid:
  penalty, fee, interest, principal) must be paid first; it is posted as an ordinary repayment
  (``services.repayment_post``) so the loan's allocation order applies.
* The principal not yet due (``future_principal``) accrues interest for the current period pro
  rata, **actual/360**, from the last due date on or before ``on_date`` (the value date when no
  installment has fallen due yet) up to ``on_date``:
  ``accrued = future_principal × annual rate × days / 360``, half-up to the fen.
* Full payoff = due + accrued interest + future principal + the fees the not-yet-due rows
  carry beyond the regular installment fee (收费, an upfront fee collected with installment 1):
  those are paid by a repayment on the prepayment row. A loan's credit balance (溢缴款) is
  reported but not netted.
* A partial prepayment ``R`` (the amount beyond what is due) pays principal ``p`` plus the
  accrued interest on that principal only: ``p = floor(R / (1 + rate × days / 360))``, interest
  ``R − p``. The remaining balance keeps its interest for the whole current period in the new
  schedule (no interest is charged twice).
* The unpaid future installments are deleted and replaced: one paid row for the prepayment
  (period = next period, due date = ``on_date``, so the schedule shows it and principal paid
  adds up), then the new schedule from ``schedule.reschedule_after_prepayment`` starting at the
  last due date: ``reduce_payment`` keeps the remaining term and lowers the installment
  (等额本金: lower principal per period), ``shorten_term`` keeps the installment (等额本息,
  monthly or quarterly) or the principal per period (等额本金) and ends earlier; methods that
  repay principal at maturity keep their maturity either way. Periods stay continuous; the
  quarterly methods count 3 months per remaining period.
* A loan whose due day is clamped at month end (started on the 29th–31st) is rescheduled from
  the clamped due date as a whole period (Feb 28 → Mar 31 is one month, not 31 days), so no
  extra day is charged; the accrued interest of the current period counts actual days from the
  actual (clamped) due date. The paid row an earlier prepayment left is not a period boundary:
  a second prepayment in the same period accrues from the scheduled due date and the new
  schedule keeps the scheduled due dates.
* Ledger: debit cash, credit loan_principal / interest_income, in the same transaction; the
  prepaid part is a ``Posting`` whose allocation has ``"prepayment": {...}``.
"""

from __future__ import annotations

from credo.lending.prepay.posting import PrepayResult, prepay
from credo.lending.prepay.quote import DAYS_IN_YEAR, MODE_LABELS, MODES, prepayment_quote

__all__ = ["DAYS_IN_YEAR", "MODES", "MODE_LABELS", "PrepayResult", "prepay", "prepayment_quote"]
