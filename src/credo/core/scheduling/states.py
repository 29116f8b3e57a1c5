"""The status of a background task (django-tasks-db's ``DBTaskResult.status``).

django-tasks-db claims (READY → RUNNING) and finishes (RUNNING → SUCCESSFUL/FAILED) tasks
itself; Credo changes a task's status only in the reaper, which takes a stale claim back
(RUNNING → READY) or gives it up (RUNNING → FAILED). The table documents the whole life cycle.
"""

from __future__ import annotations

from django_tasks.base import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from credo.core import fsm

S = TaskResultStatus

TASK_RESULT = fsm.machine(
    DBTaskResult,
    {
        S.READY: {S.RUNNING},
        S.RUNNING: {S.SUCCESSFUL, S.FAILED, S.READY},
        S.SUCCESSFUL: set(),
        S.FAILED: set(),
    },
    initial={S.READY},
    choices=S,
    note="领取与完成由 django-tasks-db 完成；Credo 仅在回收过期领取时把运行中的任务"
    "重新排队或标记为失败。",
)
