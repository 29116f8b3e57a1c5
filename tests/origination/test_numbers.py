"""Application numbers come from the locked ``application`` counter (credo.core.sequence)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from credo.core.models import BusinessSequence
from credo.core.money import Money
from credo.origination import services
from credo.origination.models import Application


@pytest.mark.django_db
def test_counter_seeds_from_existing_numbers(make_app):
    first = make_app()
    BusinessSequence.objects.filter(name="application").delete()  # an existing book, no counter
    stem = first.number[:-4]
    assert make_app().number == f"{stem}0002"
    row = BusinessSequence.objects.get(name="application", period=stem[1:])
    assert row.last == 2


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_creations_get_consecutive_numbers(
    owner, customer, product_version, staff_perms
):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL for real concurrent transactions")
    n = 20
    barrier = threading.Barrier(n)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def run() -> None:
        from django.db import connection as conn

        try:
            barrier.wait()
            app = services.application_create(
                customer=customer,
                product_version=product_version,
                amount=Money("300000"),
                months=12,
                annual_rate=Decimal("12"),
                purpose="采购原材料",
                actor=owner,
            )
            numbers.append(app.number)
        except Exception as exc:  # noqa: BLE001 — collected and asserted below
            errors.append(exc)
        finally:
            conn.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    today = timezone.localdate()
    assert sorted(numbers) == [f"A{today:%Y%m%d}{i:04d}" for i in range(1, n + 1)]
    assert Application.objects.count() == n
