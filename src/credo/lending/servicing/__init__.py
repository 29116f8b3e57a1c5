"""Loan servicing approvals (maker-checker): 罚息减免 (waiver) and 人工分类调整 (manual
five-level classification).

A request is made by one person (客户经理/催收员) and decided by a second person holding the
approve permission; an approved waiver is applied through the replay service
(``credo.lending.replay.service.post_waiver``) in the same transaction as the approval, an
approved classification sets the loan's class and its floor at once and writes the class
history. Every step is audited, on the customer's timeline and on the approvers' todo lists.
"""
