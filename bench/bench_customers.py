"""Customer benchmarks: import, list page, 360 timeline.

    .venv/bin/python -m bench.bench_customers --import-rows 10000 --list-rows 0 --events 0
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench \\
        .venv/bin/python -m bench.bench_customers --import-rows 10000 --list-rows 200000 \\
        --events 5000

Without DATABASE_URL a throwaway SQLite file in a temp dir is used. With a PostgreSQL URL the
named database is created fresh (dropped first if it exists) and dropped afterwards unless
``--keep``. Targets: (a) import of N rows < 30 s; (b) list page queries < 300 ms;
(c) timeline first page + counts < 300 ms. Prints a markdown table.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from typing import Any

RESULTS: list[tuple[str, str, float, str]] = []


def _setup_env(db_url: str | None) -> tuple[str, Callable[[], None]]:
    os.environ.setdefault("CREDO_ENVIRONMENT", "test")
    os.environ.setdefault("CREDO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("CREDO_SECRET_KEY", "bench-secret-key-not-for-production-0123456789ab")
    os.environ.setdefault(
        "CREDO_ENCRYPTION_KEYS", "k1:dGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY="
    )
    tmp = tempfile.mkdtemp(prefix="credo-bench-")
    os.environ.setdefault("CREDO_DATA_DIR", tmp)
    os.environ["DJANGO_SETTINGS_MODULE"] = "credo.settings"
    cleanup: Callable[[], None] = lambda: shutil.rmtree(tmp, ignore_errors=True)  # noqa: E731
    if db_url and db_url.startswith("postgres"):
        import psycopg

        base, _, name = db_url.rpartition("/")
        admin = f"{base}/postgres"
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')

        def drop() -> None:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            shutil.rmtree(tmp, ignore_errors=True)

        cleanup = drop
        os.environ["DATABASE_URL"] = db_url
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
    return os.environ["DATABASE_URL"], cleanup


def _timed(fn: Callable[[], Any], repeat: int = 5) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def record(name: str, target_ms: float, value_ms: float) -> None:
    ok = "✅" if value_ms <= target_ms else "❌"
    RESULTS.append(
        (
            name,
            f"< {target_ms / 1000:g} s" if target_ms >= 1000 else f"< {target_ms:g} ms",
            value_ms,
            ok,
        )
    )
    print(f"  {name}: {value_ms:,.1f} ms {ok}", flush=True)


def _users() -> tuple[Any, list[Any]]:
    from credo.accounts.models import OrgUnit, Role, User

    hq = OrgUnit.objects.create(code="b-hq", name="总部", kind="head_office")
    branch = OrgUnit.objects.create(code="b-ty", name="太原分公司", kind="branch", parent=hq)
    teams = [
        OrgUnit.objects.create(code=f"b-t{i}", name=f"太原{i}组", kind="team", parent=branch)
        for i in range(4)
    ]
    am = Role.objects.get(code="account_manager")
    owners = []
    for i in range(20):
        u = User.objects.create(username=f"am{i}", display_name=f"经理{i}", org_unit=teams[i % 4])
        u.roles.add(am)
        owners.append(User.objects.select_related("org_unit__parent").get(pk=u.pk))
    admin = User.objects.create(
        username="bench-admin", is_superuser=True, is_staff=True, org_unit=hq
    )
    return admin, owners


def bench_import(rows_n: int, owner: Any) -> None:
    from openpyxl import Workbook

    from credo.customers.demo import _Gen
    from credo.customers.importing import parse_file, preview, run_import
    from credo.customers.models import Customer

    gen = _Gen(seed=99, serial_base=10_000_000)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("客户")
    ws.append(
        [
            "客户类型",
            "名称/姓名",
            "统一社会信用代码",
            "身份证号",
            "手机号",
            "注册资本",
            "行业",
            "法定代表人",
            "成立日期",
            "所在地区",
            "地址",
            "工作单位",
            "银行账号",
        ]
    )
    for i in range(rows_n):
        c = gen.enterprise() if i % 5 < 3 else gen.individual()
        ws.append(
            [
                c.get_kind_display(),
                c.name,
                c.uscc,
                c.id_number,
                c.phone,
                c.registered_capital.yuan if c.registered_capital else None,  # type: ignore[attr-defined]
                c.industry,
                c.legal_representative,
                c.founded_on,
                c.region_code,
                c.address,
                c.employer,
                c.bank_account,
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    before = Customer.objects.count()
    t0 = time.perf_counter()
    rows = parse_file(data, "bench.xlsx")
    t1 = time.perf_counter()
    checked = preview(rows, actor=owner)
    t2 = time.perf_counter()
    result = run_import(
        rows, actor=owner, mode="all_or_nothing", filename="bench.xlsx", checked=checked
    )
    t3 = time.perf_counter()
    assert result.created == rows_n, (result.created, checked.errors[:5])
    assert Customer.objects.count() == before + rows_n
    print(f"  parse {t1 - t0:.2f} s, preview {t2 - t1:.2f} s, write {t3 - t2:.2f} s")
    record(f"import {rows_n:,} rows: parse", 30_000, (t1 - t0) * 1000)
    record(f"import {rows_n:,} rows: preview (validate + duplicates)", 30_000, (t2 - t1) * 1000)
    record(f"import {rows_n:,} rows: write", 30_000, (t3 - t2) * 1000)
    record(f"import {rows_n:,} rows: total (parse + preview + write)", 30_000, (t3 - t0) * 1000)


def bench_list(list_rows: int, owners: list[Any], admin: Any) -> None:
    from credo.customers.demo import generate_customers
    from credo.customers.models import Customer
    from credo.customers.selectors import customer_list, paginate

    missing = list_rows - Customer.objects.count()
    if missing > 0:
        t = time.perf_counter()
        generate_customers(
            missing,
            owners=owners,
            seed=5,
            batch=2000,
            progress=lambda d: (
                print(f"    seeded {d:,}", flush=True) if d % 20_000 < 2000 else None
            ),
        )
        print(f"  seeded {missing:,} customers in {time.perf_counter() - t:.1f} s", flush=True)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
    total = Customer.objects.count()
    some = Customer.objects.filter(kind="individual").order_by("id")[total // 3]
    id_number = some.id_number
    am = owners[0]

    def page(user: Any, params: dict[str, str]) -> Callable[[], None]:
        def run() -> None:
            p = paginate(customer_list(user, params), 1)
            list(p.object_list)
            _ = p.paginator.count

        return run

    record(f"list page 1 + count, all scope ({total:,} customers)", 300, _timed(page(admin, {})))
    record("list page 1 + count, own scope (account manager)", 300, _timed(page(am, {})))
    record("list name search '晋阳' (icontains) + count", 300, _timed(page(admin, {"q": "晋阳"})))
    record(
        "list ID number search (blind index) + count", 300, _timed(page(admin, {"q": id_number}))
    )
    record(
        "list filter region 太原 + kind enterprise + count",
        300,
        _timed(page(admin, {"region": "140100", "kind": "enterprise"})),
    )


def bench_timeline(events: int, owner: Any) -> None:
    import datetime as dt

    from django.utils import timezone

    from credo.customers.models import Customer, CustomerEvent
    from credo.customers.selectors import paginate, timeline, timeline_counts

    customer = Customer.objects.filter(owner=owner).order_by("id").first()
    assert customer is not None
    kinds = [k for k in CustomerEvent.Kind.values]
    now = timezone.now()
    CustomerEvent.objects.bulk_create(
        [
            CustomerEvent(
                customer=customer,
                kind=kinds[i % len(kinds)],
                actor=owner,
                occurred_at=now - dt.timedelta(minutes=i * 37),
                title=f"事件 {i}",
                source="bench",
            )
            for i in range(events)
        ],
        batch_size=2000,
    )
    n = customer.events.count()

    def run() -> None:
        p = paginate(timeline(customer), 1)
        list(p.object_list)
        _ = p.paginator.count
        timeline_counts(customer)

    record(f"timeline page 1 + count + counts per kind ({n:,} events)", 300, _timed(run))

    def run_kind() -> None:
        p = paginate(timeline(customer, kinds=["repayment", "disbursement"]), 1)
        list(p.object_list)
        _ = p.paginator.count

    record("timeline filtered by kind, page 1 + count", 300, _timed(run_kind))

    # The whole 360 page as the browser gets it: the detail view (profile, figures, relations,
    # graph, external data, counts) plus the htmx timeline fragment it loads, rendered through
    # the real URL routing, middleware and templates.
    from django.test import Client

    client = Client()
    client.force_login(owner)
    detail_url = f"/customers/{customer.pk}/"
    timeline_url = f"/customers/{customer.pk}/timeline/"

    def run_page() -> None:
        for url in (detail_url, timeline_url):
            response = client.get(url)
            assert response.status_code == 200, (url, response.status_code)

    record(
        f"360 page: detail + timeline fragment, HTTP render ({n:,} events)", 300, _timed(run_page)
    )

    def run_list_page() -> None:
        response = client.get("/customers/")
        assert response.status_code == 200

    record("customer list page, HTTP render (own scope)", 300, _timed(run_list_page))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--import-rows", type=int, default=10_000)
    parser.add_argument("--list-rows", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    url, cleanup = _setup_env(os.environ.get("DATABASE_URL"))
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        print(f"database: {connection.vendor} ({url.split('@')[-1]})", flush=True)
        t = time.perf_counter()
        call_command("migrate", verbosity=0)
        from credo.accounts.roles import ensure_default_roles

        ensure_default_roles()
        print(f"  migrated in {time.perf_counter() - t:.1f} s", flush=True)
        admin, owners = _users()
        if args.import_rows:
            bench_import(args.import_rows, owners[0])
        if args.list_rows:
            bench_list(args.list_rows, owners, admin)
        if args.events:
            bench_timeline(args.events, owners[0])
        print()
        print(f"Database: {connection.vendor}")
        print()
        print("| Benchmark | Target | Result | |")
        print("|---|---|---|---|")
        for name, target, value, ok in RESULTS:
            shown = f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.1f} ms"
            print(f"| {name} | {target} | {shown} | {ok} |")
        return 0 if all(ok == "✅" for *_x, ok in RESULTS) else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
