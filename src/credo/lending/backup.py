"""What a restore checks for lending: the ledger invariants (``ledger.verify``)."""

from __future__ import annotations

from credo.core.backup import IntegrityResult, register_integrity_check


def ledger_check() -> IntegrityResult:
    from credo.lending import ledger

    report = ledger.verify()
    if report.ok:
        return IntegrityResult(
            True, f"账务核对通过（{report.entries} 笔分录、{report.loans} 笔贷款）"
        )
    more = len(report.problems) - 50
    return IntegrityResult(
        False,
        f"账务核对发现 {len(report.problems)} 个问题",
        report.problems[:50] + ([f"…… 另有 {more} 个"] if more > 0 else []),
    )


register_integrity_check("ledger", "账务", ledger_check)
