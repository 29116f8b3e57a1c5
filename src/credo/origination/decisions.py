"""Decisions (rule sets) origination evaluates: admission (准入) and the credit report's
rules-based risk score. The default rule files are in the ``decision_tables/`` folder next to this
module."""

from credo.origination import admission, credit_report
from credo.rules.registry import register_decision

register_decision(admission.SPEC)
credit_report.register()
