"""Accrual accounting (权责发生制, issue 20 item 4): the book's basis, the daily interest and
罚息 accrual of the close of business with its per-loan sub-ledger, non-accrual (非应计) and the
receipts that settle the receivable. See :mod:`credo.lending.accruals.services`."""
