from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from credo.core.validators import is_valid_id_number, is_valid_uscc
from credo.customers.demo import generate_customers, make_uscc, seed_demo_customers
from credo.customers.models import Customer, CustomerEvent, Relation

pytestmark = pytest.mark.django_db


def test_generate_valid_customers_with_scope(owner, outsider):
    stats = generate_customers(300, owners=[owner, outsider], seed=7, batch=100)
    assert stats.customers == 300 == Customer.objects.count()
    kinds = {k: Customer.objects.filter(kind=k).count() for k in ("enterprise", "individual")}
    assert 120 <= kinds["enterprise"] <= 240 and kinds["individual"] > 60
    for c in Customer.objects.all():
        assert c.region_code.startswith("14") and len(c.region_code) == 6
        if c.kind == "enterprise":
            assert is_valid_uscc(c.uscc), c.uscc
            assert c.registered_capital is not None and c.industry
        else:
            assert is_valid_id_number(c.id_number), c.id_number
            assert c.id_number_bidx and c.phone[:2] in ("13", "15", "18")
            assert 1960 <= int(c.id_number[6:10]) <= 2000
        expected = owner if c.owner_id == owner.pk else outsider
        assert c.team == expected.team and c.branch == expected.branch
    assert Customer.objects.filter(owner=owner).count() == 150
    assert CustomerEvent.objects.filter(kind="created").count() == 300
    assert Relation.objects.exists()


def test_deterministic_and_second_run_adds_without_collisions(owner):
    generate_customers(
        50, owners=[owner], seed=1, batch=50, with_relations=False, events_per_customer=0
    )
    names = list(Customer.objects.order_by("id").values_list("name", flat=True))
    stats = generate_customers(50, owners=[owner], seed=1, batch=50)
    assert stats.customers == 50 and Customer.objects.count() == 100
    assert names[:5] == list(Customer.objects.order_by("id").values_list("name", flat=True))[:5]


def test_make_uscc_checksum():
    assert is_valid_uscc(make_uscc("140105", 12345678))


def test_seed_command(owner):
    out = io.StringIO()
    call_command("seed", "--customers", "120", "--owner", "owner", "--batch", "50", stdout=out)
    assert Customer.objects.filter(owner=owner).count() == 120
    assert "created 120 customers" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("seed", "--customers", "5", "--owner", "nobody")


def test_seed_command_refuses_production(owner, settings):
    settings.ENVIRONMENT = "production"
    with pytest.raises(CommandError):
        call_command("seed", "--customers", "5", "--owner", "owner")
    call_command(
        "seed", "--customers", "5", "--owner", "owner", "--allow-production", stdout=io.StringIO()
    )
    assert Customer.objects.count() == 5


def test_demo_seeder_is_idempotent(owner):
    from credo.accounts.models import Role
    from credo.core.demo import DemoContext

    role = Role.objects.get(code="account_manager")
    owner.roles.add(role)
    lines: list[str] = []
    ctx = DemoContext(users={"account_manager": owner}, org={}, out=lines.append)
    import credo.customers.demo as demo

    old = demo.DEMO_COUNT
    demo.DEMO_COUNT = 60
    try:
        seed_demo_customers(ctx)
        seed_demo_customers(ctx)
    finally:
        demo.DEMO_COUNT = old
    assert Customer.objects.count() == 60
    assert "skipped" in lines[-1]
