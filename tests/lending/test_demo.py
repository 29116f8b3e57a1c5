import pytest

from credo.core.demo import DemoContext
from credo.lending import demo, ledger
from credo.lending.models import Loan

pytestmark = pytest.mark.django_db


def test_demo_book_is_consistent_and_idempotent(monkeypatch, borrower, finance, owner):
    monkeypatch.setattr(demo, "DEMO_LOANS", 3)
    out: list[str] = []
    ctx = DemoContext(users={"finance": finance}, org={}, out=out.append)
    demo.seed_demo_loans(ctx)
    assert Loan.objects.filter(status__in=["active", "overdue", "paid_off"]).count() == 1
    assert ledger.verify().ok, ledger.verify().problems
    assert "1 disbursed" in out[-1]
    demo.seed_demo_loans(ctx)
    assert "already present" in out[-1]
