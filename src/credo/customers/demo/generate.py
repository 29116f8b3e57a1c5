"""Generating the customers, their relations and timeline events."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from credo.core import clock
from credo.core.audit.services import audit_record
from credo.core.crypto import blind_index
from credo.core.money import Money
from credo.core.regions import PLACEHOLDER_CITY_NAMES, children_of
from credo.core.validators import id_check_char, uscc_check_char
from credo.customers.demo.names import (
    CITY_SHORT,
    CITY_WEIGHTS,
    EMPLOYERS,
    FOLLOW_UPS,
    GIVEN,
    INDUSTRIES,
    RISK_FLAG_KEYS,
    ROADS,
    SHANXI,
    SUFFIXES,
    SURNAMES,
    TRADE_NAMES,
)
from credo.customers.models import Customer, CustomerEvent, Relation


class GenerateStats:
    customers: int = 0
    enterprises: int = 0
    individuals: int = 0
    relations: int = 0
    events: int = 0
    first_id: int | None = None
    last_id: int | None = None


def _counties() -> dict[str, list[tuple[str, str]]]:
    out: dict[str, list[tuple[str, str]]] = {}
    for city in children_of(SHANXI):
        prefix = city.code[:4]
        if prefix not in CITY_SHORT:
            continue
        counties = [
            (r.code, r.name) for r in children_of(city.code) if r.name not in PLACEHOLDER_CITY_NAMES
        ]
        out[prefix] = counties or [(city.code, city.name)]
    return out


def _org_code_check(body8: str) -> str:
    """GB 11714 组织机构代码 check character for 8 digits."""
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    c = 11 - sum(int(d) * w for d, w in zip(body8, weights, strict=True)) % 11
    return "X" if c == 10 else "0" if c == 11 else str(c)


def make_uscc(region: str, serial: int) -> str:
    body8 = f"{serial % 10**8:08d}"
    first17 = f"91{region}{body8}{_org_code_check(body8)}"
    return first17 + uscc_check_char(first17)


def make_id_number(region: str, birth: dt.date, seq: int) -> str:
    first17 = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    return first17 + id_check_char(first17)


class _Gen:
    def __init__(self, seed: int, serial_base: int) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - demo data, deterministic on purpose
        self.counties = _counties()
        self.city_keys = list(CITY_WEIGHTS)
        self.city_w = [CITY_WEIGHTS[k] for k in self.city_keys]
        self.ind_keys = list(INDUSTRIES)
        self.ind_w = [INDUSTRIES[k][0] for k in self.ind_keys]
        self.serial = serial_base
        self.used_uscc: set[str] = set()
        self.used_id: set[str] = set()
        self.today = clock.today()

    def place(self) -> tuple[str, str, str]:
        city = self.rng.choices(self.city_keys, self.city_w)[0]
        code, county = self.rng.choice(self.counties[city])
        return city, code, county

    def person_name(self) -> str:
        r = self.rng
        return r.choice(SURNAMES) + r.choice(GIVEN) + (r.choice(GIVEN) if r.random() < 0.55 else "")

    def address(self, county: str) -> str:
        r = self.rng
        return f"{county}{r.choice(ROADS)}{r.randint(1, 399)}号"

    def mobile(self) -> str:
        r = self.rng
        prefix = r.choice(("13", "15", "18")) + str(r.randint(0, 9))
        return prefix + f"{r.randint(0, 10**8 - 1):08d}"

    def enterprise(self) -> Customer:
        r = self.rng
        city, county_code, county = self.place()
        industry = r.choices(self.ind_keys, self.ind_w)[0]
        words = INDUSTRIES[industry][1]
        name = (
            f"{CITY_SHORT[city]}{'市' if r.random() < 0.5 else ''}{r.choice(TRADE_NAMES)}"
            f"{r.choice(words)}{r.choice(SUFFIXES)}"
        )
        while True:
            self.serial += 1
            uscc = make_uscc(county_code, self.serial * 7919 + r.randint(0, 7000))
            if uscc not in self.used_uscc:
                self.used_uscc.add(uscc)
                break
        founded = self.today - dt.timedelta(days=r.randint(200, 365 * 25))
        capital = Money(
            Decimal(r.choice((10, 30, 50, 100, 200, 300, 500, 1000, 2000, 5000)) * 10_000)
        )
        return Customer(  # type: ignore[misc]  # MoneyField holds Money
            kind=Customer.Kind.ENTERPRISE,
            name=name[:120],
            uscc=uscc,
            registered_capital=capital,
            industry=industry,
            legal_representative=self.person_name(),
            founded_on=founded,
            phone=self.mobile() if r.random() < 0.7 else f"0351-{r.randint(2000000, 8999999)}",
            region_code=county_code,
            address=self.address(county),
            risk_grade=r.choices(("", "A", "B", "C", "D", "E"), (30, 25, 25, 12, 5, 3))[0],
        )

    def individual(self) -> Customer:
        r = self.rng
        _city, county_code, county = self.place()
        while True:
            birth = dt.date(1960, 1, 1) + dt.timedelta(days=r.randint(0, 365 * 40 + 9))
            id_number = make_id_number(county_code, birth, r.randint(0, 999))
            if id_number not in self.used_id:
                self.used_id.add(id_number)
                break
        return Customer(
            kind=Customer.Kind.INDIVIDUAL,
            name=self.person_name(),
            id_number=id_number,
            phone=self.mobile(),
            bank_account=("62" + "".join(str(r.randint(0, 9)) for _ in range(17)))
            if r.random() < 0.6
            else "",
            employer=r.choice(EMPLOYERS) if r.random() < 0.7 else "",
            region_code=county_code,
            address=self.address(county),
            risk_grade=r.choices(("", "A", "B", "C", "D"), (40, 25, 20, 10, 5))[0],
        )


def _drop_existing(batch: list[Customer]) -> list[Customer]:
    """Remove customers whose identifier already exists in the database (earlier runs)."""
    usccs = [c.uscc for c in batch if c.uscc]
    bidx = {blind_index(c.id_number, kind="id_number"): c for c in batch if c.id_number}
    taken_uscc = set(Customer.objects.filter(uscc__in=usccs).values_list("uscc", flat=True))
    taken_bidx = set(
        Customer.objects.filter(id_number_bidx__in=list(bidx)).values_list(
            "id_number_bidx", flat=True
        )
    )
    taken_ids = {bidx[b].id_number for b in taken_bidx}
    return [c for c in batch if c.uscc not in taken_uscc and c.id_number not in taken_ids]


def generate_customers(
    n: int,
    *,
    owners: Sequence[Any],
    seed: int = 42,
    batch: int = 1000,
    with_relations: bool = True,
    events_per_customer: int = 3,
    progress: Callable[[int], None] | None = None,
    actor: Any = None,
) -> GenerateStats:
    """Bulk-create ``n`` customers; ``progress(created_so_far)`` is called after each batch."""
    if not owners:
        raise ValueError("generate_customers needs at least one owner")
    owner_units = [(o, o.team, o.branch) for o in owners]
    serial_base = Customer.objects.order_by("-id").values_list("id", flat=True).first() or 0
    gen = _Gen(seed, serial_base * 3 + seed)
    rng = gen.rng
    stats = GenerateStats()
    now = timezone.now()
    while stats.customers < n:
        size = min(batch, n - stats.customers)
        items: list[Customer] = []
        for _ in range(size):
            c = gen.enterprise() if rng.random() < 0.6 else gen.individual()
            owner, team, branch = owner_units[(stats.customers + len(items)) % len(owner_units)]
            c.owner, c.team, c.branch = owner, team, branch
            if rng.random() < 0.03:
                c.risk_flags = [rng.choice(RISK_FLAG_KEYS)]
            items.append(c)
        with transaction.atomic():
            items = _drop_existing(items)
            if not items:
                continue
            created = Customer.objects.bulk_create(items)
            events = _events(created, rng, now, events_per_customer)
            CustomerEvent.objects.bulk_create(events, batch_size=2000)
            relations = _relations(created, rng) if with_relations else []
            Relation.objects.bulk_create(relations, batch_size=2000, ignore_conflicts=True)
        stats.customers += len(created)
        stats.enterprises += sum(1 for c in created if c.kind == Customer.Kind.ENTERPRISE)
        stats.individuals += sum(1 for c in created if c.kind == Customer.Kind.INDIVIDUAL)
        stats.events += len(events)
        stats.relations += len(relations)
        stats.first_id = stats.first_id or created[0].pk
        stats.last_id = created[-1].pk
        if progress is not None:
            progress(stats.customers)
    with transaction.atomic():
        audit_record(
            action="customer.seed",
            actor=actor,
            object_type="customers.customer",
            metadata={
                "count": stats.customers,
                "seed": seed,
                "first_id": stats.first_id,
                "last_id": stats.last_id,
            },
        )
    return stats


def _events(
    created: list[Customer], rng: random.Random, now: dt.datetime, per: int
) -> list[CustomerEvent]:
    events: list[CustomerEvent] = []
    if per <= 0:
        return events
    for c in created:
        start = now - dt.timedelta(days=rng.randint(30, 900))
        events.append(
            CustomerEvent(
                customer=c,
                kind=CustomerEvent.Kind.CREATED,
                occurred_at=start,
                actor=c.owner,
                title="建立客户档案（演示数据）",
                source="customers",
                object_type="customers.customer",
                object_id=str(c.pk),
            )
        )
        for i in range(per - 1):
            when = start + dt.timedelta(
                days=rng.randint(1, 25) * (i + 1), minutes=rng.randint(0, 600)
            )
            if c.risk_flags and i == per - 2:
                events.append(
                    CustomerEvent(
                        customer=c,
                        kind=CustomerEvent.Kind.ALERT,
                        occurred_at=min(when, now),
                        title="标记风险（演示数据）",
                        source="customers",
                        actor=c.owner,
                        detail={"flags": c.risk_flags},
                    )
                )
                continue
            events.append(
                CustomerEvent(
                    customer=c,
                    kind=CustomerEvent.Kind.FOLLOW_UP,
                    occurred_at=min(when, now),
                    title=rng.choice(FOLLOW_UPS),
                    source="customers",
                    actor=c.owner,
                )
            )
    return events


def _relations(created: list[Customer], rng: random.Random) -> list[Relation]:
    people = [c for c in created if c.kind == Customer.Kind.INDIVIDUAL]
    companies = [c for c in created if c.kind == Customer.Kind.ENTERPRISE]
    rels: list[Relation] = []
    if not people:
        return rels
    for company in companies:
        roll = rng.random()
        if roll < 0.15:
            person = rng.choice(people)
            rels.append(
                Relation(
                    from_customer=person,
                    to_customer=company,
                    kind=Relation.Kind.LEGAL_REPRESENTATIVE,
                    created_by=company.owner,
                )
            )
            pct = Decimal(rng.choice((30, 40, 51, 60, 70, 100)))
            rels.append(
                Relation(
                    from_customer=person,
                    to_customer=company,
                    kind=Relation.Kind.SHAREHOLDER,
                    share_pct=pct,
                    created_by=company.owner,
                )
            )
        elif roll < 0.25:
            rels.append(
                Relation(
                    from_customer=rng.choice(people),
                    to_customer=company,
                    kind=Relation.Kind.GUARANTOR,
                    created_by=company.owner,
                )
            )
        elif roll < 0.28 and len(companies) > 1:
            other = rng.choice(companies)
            if other.pk != company.pk:
                rels.append(
                    Relation(
                        from_customer=other,
                        to_customer=company,
                        kind=Relation.Kind.AFFILIATE,
                        created_by=company.owner,
                    )
                )
    rng.shuffle(people)
    for a, b in zip(
        people[: len(people) // 10 : 2], people[1 : len(people) // 10 : 2], strict=False
    ):
        rels.append(
            Relation(from_customer=a, to_customer=b, kind=Relation.Kind.SPOUSE, created_by=a.owner)
        )
    return rels
