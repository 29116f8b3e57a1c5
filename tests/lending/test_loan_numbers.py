"""Loan numbers come from the locked daily counter (credo.core.sequence): concurrent creations
never collide (PostgreSQL, real transactions and one connection per thread)."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection, connections

from credo.core import clock
from credo.core.money import Money
from credo.lending import services
from credo.lending.models import Loan
from tests.factories import RoleFactory, UserFactory


@pytest.mark.django_db
def test_numbers_follow_the_existing_book(make_loan):
    first, second = make_loan(), make_loan()
    stem = f"L{clock.today():%Y%m%d}"
    assert (first.number, second.number) == (f"{stem}0001", f"{stem}0002")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
def test_twenty_concurrent_direct_creations_get_twenty_numbers(org, borrower, product_version):
    role = RoleFactory(code="direct_c", name="直接放贷", data_scope="all")
    role.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="lending", codename__in=["view_loan", "create_loan_directly"]
        )
    )
    actor = UserFactory(username="direct_c", org_unit=org["head"], roles=[role])
    errors: list[BaseException] = []
    start = threading.Barrier(20)

    def create() -> None:
        try:
            start.wait()
            services.loan_create_direct(
                customer=borrower,
                product_version=product_version,
                principal=Money("10000"),
                annual_rate=Decimal("12"),
                months=12,
                actor=actor,
            )
        except BaseException as exc:  # pragma: no cover - surfaced below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=create) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    numbers = list(Loan.objects.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers)) == 20
    stem = f"L{clock.today():%Y%m%d}"
    assert sorted(numbers) == [f"{stem}{i:04d}" for i in range(1, 21)]
