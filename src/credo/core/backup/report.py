"""What a restore did: its steps (the checks run, in order) and their text for the operator."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from credo.core.backup.common import vendor_label


@dataclass
class Step:
    name: str
    ok: bool
    message: str
    details: list[str] = field(default_factory=list)
    warning: bool = False
    seconds: float = 0.0  # since the previous step


@dataclass
class RestoreReport:
    source: str
    vendor: str = ""
    restored: bool = False  # whether anything was written to the database or the documents
    steps: list[Step] = field(default_factory=list)
    migrated: list[str] = field(default_factory=list)
    seconds: float = 0.0
    _mark: float = field(default_factory=time.monotonic, repr=False)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.steps)

    def add(
        self, name: str, ok: bool, message: str, details: Iterable[str] = (), **kw: Any
    ) -> Step:
        now = time.monotonic()
        step = Step(name, ok, message, list(details), seconds=round(now - self._mark, 3), **kw)
        self._mark = now
        self.steps.append(step)
        return step

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "source": self.source,
            "vendor": self.vendor,
            "restored": self.restored,
            "migrated": self.migrated,
            "seconds": self.seconds,
            "steps": [asdict(s) for s in self.steps],
        }


def format_report_text(report: RestoreReport) -> list[str]:
    lines = [f"恢复 {report.source}（{vendor_label(report.vendor)}）"]
    for step in report.steps:
        mark = "✗" if not step.ok else ("!" if step.warning else "✓")
        took = f"（{step.seconds:.1f} 秒）" if step.seconds >= 1 else ""
        lines.append(f"  {mark} {step.message}{took}")
        lines.extend(f"      - {d}" for d in step.details)
    if report.ok:
        lines.append(f"恢复完成，全部校验通过（{report.seconds:.1f} 秒）。")
    elif not report.restored:
        lines.append("恢复失败：未恢复任何内容。")
    else:
        lines.append("恢复后校验发现问题（见 ✗ 项）：请核对后再启用系统。")
    return lines
