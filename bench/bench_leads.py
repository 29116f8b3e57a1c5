"""Lead benchmarks: import + assign 10,000 leads; bulk assignment identical to one by one.

    .venv/bin/python -m bench.bench_leads --rows 10000 --verify 300
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_leads \\
        .venv/bin/python -m bench.bench_leads --rows 10000

Without DATABASE_URL a throwaway SQLite file is used (see ``bench_customers._setup_env``).
Targets: import (parse + preview + write + rule evaluation + round-robin) of N rows < 20 s;
the owners chosen by the bulk path equal those of ``lead_assign`` called lead by lead on a
sample (run in a rolled-back transaction, then bulk on the same leads). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time

from bench.bench_customers import RESULTS, _setup_env, record

REGIONS = ["140105", "140106", "140107", "140213", "140212", "140109", "110101", ""]
KINDS = ["经营贷", "消费贷", "抵押贷", "供应链", ""]
SOURCES = ["线上推广", "线下活动", "渠道推荐", "电话营销", "老客户转介绍"]


def _org() -> None:
    from credo.accounts.models import OrgUnit, Role
    from credo.leads.models import LeadAssignee
    from tests.factories import UserFactory

    head = OrgUnit.objects.create(code="hq", name="总部", kind=OrgUnit.Kind.HEAD_OFFICE)
    ty = OrgUnit.objects.create(code="ty", name="太原", kind=OrgUnit.Kind.BRANCH, parent=head)
    dt_ = OrgUnit.objects.create(code="dt", name="大同", kind=OrgUnit.Kind.BRANCH, parent=head)
    teams = {
        "ty-a": OrgUnit.objects.create(code="ty-a", name="太原一组", kind="team", parent=ty),
        "ty-b": OrgUnit.objects.create(code="ty-b", name="太原二组", kind="team", parent=ty),
        "dt-a": OrgUnit.objects.create(code="dt-a", name="大同一组", kind="team", parent=dt_),
    }
    role = Role.objects.get(code="account_manager")
    rng = random.Random(7)
    for code, team in teams.items():
        for i in range(8):
            user = UserFactory(username=f"{code}-{i}", org_unit=team, roles=[role])
            # Some managers capped, one opted out per team: the slow paths are exercised.
            LeadAssignee.objects.create(
                user=user, max_open=rng.choice([0, 0, 300, 800]), active=i != 7
            )


def _csv(rows: int, seed: int, offset: int = 0) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    out.write("名称,联系人,手机号,来源渠道,活动,地区代码,业务类型,意向金额\n")
    for n in range(offset, offset + rows):
        out.write(
            f"线索{n},联系人{n},13{n:09d},{rng.choice(SOURCES)},活动{n % 7},"
            f"{rng.choice(REGIONS)},{rng.choice(KINDS)},{rng.randint(1, 800) * 10000}\n"
        )
    return out.getvalue().encode("utf-8")


def bench_import(rows: int) -> None:
    from credo.leads import importing
    from credo.leads.models import Lead
    from credo.rules.services import published_version

    published_version("leads.assignment")  # install the default (a one-off, not per import)
    data = _csv(rows, seed=1)
    t0 = time.perf_counter()
    parsed = importing.parse_file(data, "leads.csv")
    checked = importing.preview(parsed)
    t1 = time.perf_counter()
    created = importing.run_import(checked, actor=None, filename="bench.csv")
    t2 = time.perf_counter()
    assigned = Lead.objects.filter(pk__in=[c.pk for c in created], owner__isnull=False).count()
    print(
        f"  parse+preview {t1 - t0:.2f} s, write+assign {t2 - t1:.2f} s; "
        f"{len(created):,} leads, {assigned:,} assigned",
        flush=True,
    )
    record(f"import + assign {rows:,} leads", 20_000, (t2 - t0) * 1000)


def verify(sample: int) -> bool:
    from django.db import transaction

    from credo.leads import importing, services
    from credo.leads.models import Lead

    checked = importing.preview(importing.parse_file(_csv(sample, 2, 10**7), "v.csv"))
    created = importing.run_import(checked, actor=None, assign=False)
    ids = [c.pk for c in created]
    t = time.perf_counter()
    with transaction.atomic():
        one_by_one = [services.lead_assign(lead=lead).owner_id for lead in created]
        transaction.set_rollback(True)
    t_seq = time.perf_counter() - t
    fresh = list(Lead.objects.filter(pk__in=ids).order_by("id"))
    t = time.perf_counter()
    services.leads_assign_bulk(leads=fresh)
    t_bulk = time.perf_counter() - t
    bulk = list(Lead.objects.filter(pk__in=ids).order_by("id").values_list("owner_id", flat=True))
    same = bulk == one_by_one
    print(
        f"  verify {sample} leads: one-by-one {t_seq:.2f} s, bulk {t_bulk:.2f} s, identical={same}",
        flush=True,
    )
    RESULTS.append(
        (f"bulk == one-by-one ({sample} leads)", "identical", 0.0, "✅" if same else "❌")
    )
    return same


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--verify", type=int, default=300)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    url, cleanup = _setup_env(os.environ.get("DATABASE_URL"))
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        print(f"database: {connection.vendor} ({url.split('@')[-1]})", flush=True)
        call_command("migrate", verbosity=0)
        from credo.accounts.roles import ensure_default_roles

        ensure_default_roles()
        _org()
        if args.rows:
            bench_import(args.rows)
        if args.verify:
            verify(args.verify)
        print()
        print(f"Database: {connection.vendor}")
        print()
        print("| Benchmark | Target | Result | |")
        print("|---|---|---|---|")
        for name, target, value, ok in RESULTS:
            if target == "identical":
                shown = "identical" if ok == "✅" else "DIFFERENT"
            else:
                shown = f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"
            print(f"| {name} | {target} | {shown} | {ok} |")
        return 0 if all(ok == "✅" for *_x, ok in RESULTS) else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
