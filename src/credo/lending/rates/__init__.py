"""LPR-linked floating rates (贷款市场报价利率): the LPR table as data, a floating loan's rate
(LPR in force + spread), and its repricing on the loan's repricing date (an after-close job).

Rules:

* The LPR in force on a date is the row with the latest ``effective_date`` on or before it
  (the fixing is published on the 20th, moved to the next working day on holidays, and applies
  from that day). The lender keeps the table current on the 贷款市场报价利率 page.
* A floating loan's annual rate = LPR (1-year or 5-year-and-above, per product) + spread in
  basis points (may be negative; 100 bp = 1 percentage point), fixed at loan creation from the
  LPR in force that day, and reset on each repricing date (``repricing``): 每年1月1日, the
  anniversary of the start date (放款对应日; clamped at month end), or the same day each month.
* On a repricing date the new rate applies from the next period: the period that contains the
  repricing date keeps its interest; every later installment not yet paid is rebuilt from the
  remaining principal over the remaining term with the same method. A LoanRateChange row, an
  audit row and a customer timeline event record it. Unchanged rate: nothing is rebuilt.
"""
