"""SyncRun: an organisation sync runs, then ends done or failed (never reopened)."""

from __future__ import annotations

from credo.core.fsm import machine
from credo.imapps.models import SyncRun

S = SyncRun.Status

SYNC_RUN_MACHINE = machine(
    SyncRun,
    {S.RUNNING: {S.DONE, S.FAILED}, S.DONE: set(), S.FAILED: set()},
    initial=[S.RUNNING],
    choices=S,
    note="组织同步：进行中 → 成功 / 失败。",
)
