"""收费: ad hoc fees on a loan (手续费/违约金/其他费用) as value-dated money events.

* A charge has a kind, an amount in fen, a value date (``charged_on``, not after today, not
  before the loan's start nor an executed restructuring) and a memo. It is due with the oldest
  unpaid installment due on its value date, else with the next installment (a rebuild by a
  prepayment or repricing carries it to the first new installment). It is an event of the
  replay (kind ``fee``), so a charge valued in the past is replayed like a back-valued
  repayment: allocations, 罚息, DPD and status follow.
* Accounting is cash basis like the installment fee (the ledger has no receivable account): a
  charge posts no entry; its payment is allocated like any fee (Dr 银行存款 / Cr 手续费收入)
  and a replay that moves money between components posts the difference (倒起息调整).
* Reversal (冲销) keeps the row with who/when/why and replays from its value date; waiving a
  charge is a 减免 of 费用.
"""
