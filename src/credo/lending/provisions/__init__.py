"""贷款损失准备 (loan-loss provisions, issue 20 item 5).

* The rates are configuration: :class:`ProvisionRates` versions (defaults per
  《贷款损失准备计提指引》银发〔2002〕98号: 一般准备 1 % of the loan balance; 专项准备 关注 2 %,
  次级 25 %, 可疑 50 %, 损失 100 %; 次级 and 可疑 may float ±20 %, i.e. 20–30 % and 40–60 %).
* The monthly run (:func:`credo.lending.provisions.services.provision_run`) computes the required
  reserve per product × class from the month-end balances (set-based) and posts, per product,
  the difference to the reserve's balance at month end (Dr 资产减值损失 / Cr 贷款损失准备, or
  the reverse for a release), dated the month end — so it belongs to that month and the
  closed-period guard refuses it once the month is closed.
* Write-offs use the reserve (:mod:`credo.lending.services.write_off`); the principal part of a
  recovery restores it (:mod:`credo.lending.services.recovery`).

Models are registered in the ``lending`` app (imported at the end of
:mod:`credo.lending.models`); the migration is lending's ``0024_loan_loss_provisions``.
"""
