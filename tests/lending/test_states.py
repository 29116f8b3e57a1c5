"""The status tables of lending (credo.lending.states), listed literally: every allowed pair is
allowed, every other pair refused; and a service refuses a transition the table does not allow."""

from __future__ import annotations

import pytest

from credo.core import fsm
from credo.lending import services, states
from credo.lending.errors import InvalidState
from credo.lending.models import EodChunk, EodRun, Installment, Loan, ProductVersion, StatementLine
from tests.fsm_tables import assert_table

EXPECTED = {
    Loan: {
        ("pending", "active"),
        ("active", "overdue"),
        ("active", "paid_off"),
        ("active", "written_off"),
        ("overdue", "active"),
        ("overdue", "paid_off"),
        ("overdue", "written_off"),
        ("paid_off", "active"),
        ("paid_off", "overdue"),
    },
    Installment: {
        ("scheduled", "due"),
        ("scheduled", "paid"),
        ("scheduled", "written_off"),
        ("due", "overdue"),
        ("due", "paid"),
        ("due", "written_off"),
        ("overdue", "paid"),
        ("overdue", "written_off"),
        ("paid", "due"),
        ("paid", "scheduled"),
    },
    EodRun: {
        ("running", "done"),
        ("running", "failed"),
        ("failed", "running"),
        ("failed", "done"),
    },
    EodChunk: {
        ("pending", "done"),
        ("pending", "failed"),
        ("failed", "pending"),
        ("failed", "done"),
    },
    StatementLine: {
        ("unmatched", "matched"),
        ("unmatched", "ignored"),
        ("matched", "posted"),
        ("matched", "ignored"),
    },
    ProductVersion: {("draft", "published"), ("published", "retired")},
}
INITIAL = {
    Loan: {"pending"},
    Installment: {"scheduled", "paid"},
    EodRun: {"running", "done"},
    EodChunk: {"pending"},
    StatementLine: {"unmatched", "matched", "ignored"},
    ProductVersion: {"draft"},
}


@pytest.mark.parametrize("model", list(EXPECTED), ids=lambda m: m.__name__)
def test_every_pair_allowed_or_refused_as_listed(model):
    machine = fsm.machine_for(model)
    values = [str(v) for v in model.Status.values]
    assert machine.states == set(values)
    assert set(machine.pairs()) == EXPECTED[model]
    assert machine.initial == INITIAL[model]
    assert_table(machine, values, EXPECTED[model])


def test_restructured_is_not_a_loan_status():
    assert "restructured" not in Loan.Status.values
    assert states.LOAN_OPEN_STATES == ("active", "overdue")
    assert not hasattr(services, "OPEN_STATES")  # one definition: lending.states
    assert states.LOAN_LIMIT_STATES == ("pending", "active", "overdue")


def test_transition_refuses_a_pair_outside_the_table():
    loan = Loan(status=Loan.Status.WRITTEN_OFF)
    with pytest.raises(fsm.TransitionRefused):
        fsm.transition(loan, Loan.Status.ACTIVE, save=False)
    assert loan.status == "written_off"


@pytest.mark.django_db
def test_write_off_of_a_paid_off_loan_is_refused_and_changes_nothing(make_loan, finance):
    from tests.lending.conftest import VALUE_DATE

    loan = services.loan_disburse(loan=make_loan(), actor=finance, value_date=VALUE_DATE)
    Loan.objects.filter(pk=loan.pk).update(
        status=Loan.Status.PAID_OFF, classification=Loan.Classification.LOSS
    )
    with pytest.raises(InvalidState, match="不能核销"):
        services.loan_write_off(loan=loan, actor=finance, reason="测试")
    loan.refresh_from_db()
    assert loan.status == "paid_off"
    assert not loan.installments.filter(status="written_off").exists()
