"""The transition tables of core (Todo, background task results) and reports (ReportRun),
written out literally: every allowed pair is allowed, every other pair refused."""

from __future__ import annotations

import pytest
from django_tasks_db.models import DBTaskResult

from credo.core import fsm
from credo.core.scheduling.states import TASK_RESULT
from credo.core.todo.models import Todo
from credo.core.todo.states import TODO
from credo.reports.models import ReportRun
from credo.reports.states import REPORT_RUN
from tests.fsm_tables import assert_table

EXPECTED = {
    "todo": (
        TODO,
        Todo,
        {("open", "done"), ("open", "cancelled"), ("cancelled", "open")},
        {"open"},
    ),
    "task_result": (
        TASK_RESULT,
        DBTaskResult,
        {
            ("READY", "RUNNING"),
            ("RUNNING", "SUCCESSFUL"),
            ("RUNNING", "FAILED"),
            ("RUNNING", "READY"),
        },
        {"READY"},
    ),
    "report_run": (REPORT_RUN, ReportRun, {("done", "failed")}, {"done"}),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_table_is_exactly_the_expected_one(name):
    machine, model, allowed, initial = EXPECTED[name]
    assert fsm.machine_for(model) is machine
    assert set(machine.pairs()) == allowed
    assert machine.initial == initial
    states = {str(value) for value, _label in model._meta.get_field("status").choices}
    assert machine.states == states  # every state of the field is in the table
    assert_table(machine, states, allowed)


@pytest.mark.django_db
def test_todo_transition_on_a_row(django_user_model):
    user = django_user_model.objects.create_user(username="t-states", password="x")
    todo = Todo.objects.create(user=user, title="t")
    fsm.transition(todo, Todo.Status.DONE)
    with pytest.raises(fsm.TransitionRefused):
        fsm.transition(todo, Todo.Status.CANCELLED)
    todo.refresh_from_db()
    assert todo.status == Todo.Status.DONE
