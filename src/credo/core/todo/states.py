"""The state machine of a todo (``Todo.status``)."""

from __future__ import annotations

from credo.core import fsm
from credo.core.todo.models import Todo

S = Todo.Status

TODO = fsm.machine(
    Todo,
    {
        S.OPEN: {S.DONE, S.CANCELLED},
        # The source asks for the same todo again (upsert by dedupe key): it is reopened.
        S.CANCELLED: {S.OPEN},
        S.DONE: set(),
    },
    initial={S.OPEN},
    choices=S,
    note="完成只能由负责人操作；已取消的待办在来源再次创建同一去重键时重新打开。",
)
