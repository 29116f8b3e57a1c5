"""The books (账簿): accounting periods and their close (结账/反结账), the trial balance
(科目余额表), the general ledger (总账/明细账) and voucher export to 金蝶/用友 (issue 20)."""
