# ruff: noqa: F811 — pytest fixtures imported from tests.origination.conftest
"""Issue 19 item 4: business numbers from one concurrency-safe helper (credo.core.sequence).

Loan (tests/lending/test_loan_numbers.py) and application (tests/origination/test_numbers.py)
numbers have their own 20-thread tests; here the contract numbers and the e-sign callback path,
which creates loan numbers inside the provider's callback transaction. PostgreSQL only: real
concurrent transactions, one connection per thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from credo.core import clock
from tests.origination.conftest import (  # noqa: F401 — fixtures
    complete,
    customer,
    document_root,
    make_app,
    product_version,
    staff_perms,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks: PostgreSQL only"),
]

N = 20
FAKE_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def fast_pdf(monkeypatch):
    """The PDF renderer is not under test: 20 contracts render in milliseconds."""
    from credo.contracts import rendering

    monkeypatch.setattr(rendering, "pdf_bytes", lambda html: FAKE_PDF)


def _all_at_once(jobs: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    start = threading.Barrier(len(jobs))
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(job: Callable[[], Any]) -> None:
        try:
            start.wait(60)
            value = job()
            with lock:
                results.append(value)
        except BaseException as exc:  # noqa: BLE001 — asserted by the test
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(job,), daemon=True) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
        assert not t.is_alive(), "a creation hangs"
    return results, errors


def test_twenty_concurrent_contracts_get_twenty_numbers(owner, customer):
    from credo.contracts import services
    from credo.contracts.models import Contract
    from tests.contracts.conftest import sample_terms

    def generate() -> str:
        return services.contract_generate(
            subject=customer, customer=customer, terms=sample_terms(), actor=owner
        ).number

    numbers, errors = _all_at_once([generate] * N)
    assert errors == []
    stem = f"HT{clock.today():%Y%m%d}"
    assert sorted(numbers) == [f"{stem}{i:04d}" for i in range(1, N + 1)]
    assert Contract.objects.count() == N


def test_twenty_concurrent_signed_callbacks_create_twenty_loan_numbers(
    monkeypatch, owner, make_app, complete
):
    from credo.contracts import services as contracts
    from credo.contracts.selectors import contract_for
    from credo.lending.models import Loan
    from credo.origination import services
    from credo.origination.models import Application
    from credo.origination.services import submission

    monkeypatch.setattr(submission, "_risk", lambda customer: (800, "A"))  # the auto route
    sent = []
    for _ in range(N):
        app = services.application_submit(
            application=complete(make_app(amount="30000")), actor=owner
        )
        assert app.status == "contract_sent"
        sent.append(contract_for(app))

    def sign(contract: Any) -> Callable[[], Any]:
        return lambda: contracts.contract_simulate(contract=contract, outcome="signed", actor=owner)

    _results, errors = _all_at_once([sign(c) for c in sent])
    assert errors == []
    numbers = list(Loan.objects.values_list("number", flat=True))
    stem = f"L{clock.today():%Y%m%d}"
    assert sorted(numbers) == [f"{stem}{i:04d}" for i in range(1, N + 1)]
    assert Application.objects.filter(status="loan_created").count() == N
