"""AutomationVersion: draft → published → retired (publishing retires the previous version).
AutomationRun: written with its condition's outcome; a firing run ends done or failed."""

from __future__ import annotations

from credo.automations.models import AutomationRun, AutomationVersion
from credo.core.fsm import machine
from credo.core.versioning import version_machine

AUTOMATION_VERSION_MACHINE = version_machine(AutomationVersion, choices=AutomationVersion.Status)

R = AutomationRun.Status
AUTOMATION_RUN_MACHINE = machine(
    AutomationRun,
    {
        R.RUNNING: {R.DONE, R.FAILED},
        R.DONE: set(),
        R.FAILED: set(),
        R.SKIPPED: set(),
        R.BLOCKED: set(),
    },
    initial=[R.RUNNING, R.SKIPPED, R.BLOCKED],
    choices=R,
    note="自动化运行记录：条件不满足或循环保护拦截时写入即为最终结果；条件满足时为执行中，动作执行完为已执行或部分失败。",
)
