"""The state machine of a scheduled report delivery (``ReportRun.status``)."""

from __future__ import annotations

from credo.core import fsm
from credo.reports.models import ReportRun

S = ReportRun.Status

REPORT_RUN = fsm.machine(
    ReportRun,
    {S.DONE: {S.FAILED}, S.FAILED: set()},
    initial={S.DONE},
    choices=S,
    note="发送记录在领取时段时即创建为“完成”（每个时段只发送一次）；发送出错时改为“失败”并记录原因。",
)
