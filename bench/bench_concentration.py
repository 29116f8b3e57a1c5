"""Concentration check (集中度检查) benchmark, PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_conc \\
        .venv/bin/python -m bench.bench_concentration --customers 200000

Generates, in SQL (``INSERT … SELECT generate_series``): N customers in clusters of five
(股东 30 %, 配偶, 担保人, 法定代表人 relations inside each cluster; every tenth cluster
guarantees the next one, so a fifth of the customers are in groups of ten; a 10 % shareholding
between the other clusters that does not link), one guarantee circle (担保圈) of 500 customers as the worst case,
loans for 60 % of the customers (pending, active, overdue, paid off), credit limits for 20 %, and
the net assets. Then times, for a random sample of customers:

* ``concentration_check`` — what submission, approval and limit setting call: the group (the
  recursive closure over the relation graph) and its members' loans and limits in one query, the
  commitments (approved applications) in a second, the net assets and limits (cached), the
  top-10 test against the cached ranking;
* the floor: one indexed ``SUM`` of the open principal of the customer's group members (the group
  known in advance) — what a check cannot do with less;

and, once, the top-10 ranking the check caches (from the largest loans, limits and commitments
only, see ``selectors.top_exposures``), the check on a member of the 500-customer guarantee
circle, and the concentration report (whole book). Target (issue 22): the check
< 20 ms per application (median and p95) at 200,000 customers.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time

from bench.bench_customers import _setup_env

CLUSTER = 5
CIRCLE = 500


def _generate(n: int) -> dict[str, int]:
    from django.db import connection

    from credo.accounts.models import OrgUnit, User
    from credo.lending.models import Product, ProductVersion

    hq = OrgUnit.objects.create(code="c-hq", name="总部", kind="head_office")
    owner = User.objects.create(username="conc-am", display_name="经理", org_unit=hq)
    product = Product.objects.create(code="bench", name="经营贷")
    pv = ProductVersion.objects.create(
        product=product,
        number=1,
        status="published",
        min_amount=100000,
        max_amount=10**10,
        min_months=3,
        max_months=60,
        min_rate=4,
        max_rate=18,
        method="equal_principal",
        allocation_order=["penalty", "fee", "interest", "principal"],
    )
    p = {"n": n, "owner": owner.pk, "pv": pv.pk, "circle": CIRCLE}
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            """
            INSERT INTO customers_customer (kind, name, uscc, industry, legal_representative,
                id_number, id_number_bidx, phone, phone_bidx, bank_account, bank_account_bidx,
                employer, region_code, address, status, risk_grade, risk_flags, custom,
                created_at, updated_at, version, owner_id)
            SELECT CASE WHEN i %% 5 IN (1, 2) THEN 'individual' ELSE 'enterprise' END,
                   '客户' || i, '', '', '', '', '', '', '', '', '', '', '140105', '',
                   'active', '', '[]'::jsonb, '{}'::jsonb, now(), now(), 1, %(owner)s
            FROM generate_series(0, %(n)s - 1) AS i
            """,
            p,
        )
        cur.execute("SELECT min(id) FROM customers_customer")
        (first,) = cur.fetchone()
        p["first"] = first
        print(f"  {n:,} customers in {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        # inside each cluster of five (base b): b+1 holds 30 % of b, b+2 is b+1's spouse,
        # b+3 guarantees b, b+4 is b's legal representative; the head of every tenth cluster
        # guarantees the next cluster's head (groups of ten); the other heads hold 10 % of the
        # next cluster's head (below the 20 % threshold: no link)
        cur.execute(
            """
            INSERT INTO customers_relation (from_customer_id, to_customer_id, kind, share_pct,
                note, created_at)
            SELECT %(first)s + b + x.off, %(first)s + b + x.tgt, x.kind, x.share, '', now()
            FROM generate_series(0, %(n)s - 5, 5) AS b
            CROSS JOIN (VALUES (1, 0, 'shareholder', 30.0), (2, 1, 'spouse', NULL),
                               (3, 0, 'guarantor', NULL), (4, 0, 'legal_rep', NULL))
                 AS x (off, tgt, kind, share)
            WHERE b >= %(circle)s
            UNION ALL
            SELECT %(first)s + b, %(first)s + b + 5, 'guarantor', NULL, '', now()
            FROM generate_series(%(circle)s, %(n)s - 10, 5) AS b WHERE (b / 5) %% 10 = 0
            UNION ALL
            SELECT %(first)s + b, %(first)s + b + 5, 'shareholder', 10.0, '', now()
            FROM generate_series(%(circle)s, %(n)s - 10, 5) AS b WHERE (b / 5) %% 10 <> 0
            UNION ALL
            SELECT %(first)s + i, %(first)s + (i + 1) %% %(circle)s, 'guarantor', NULL, '', now()
            FROM generate_series(0, %(circle)s - 1) AS i
            """,
            p,
        )
        cur.execute("SELECT count(*) FROM customers_relation")
        (edges,) = cur.fetchone()
        print(f"  {edges:,} relations in {time.perf_counter() - t:.1f} s", flush=True)
        t = time.perf_counter()
        cur.execute(
            """
            INSERT INTO lending_loan (number, customer_id, product_version_id, principal,
                annual_rate, months, method, upfront_fee, installment_fee, penalty_multiplier,
                grace_days, penalty_days_in_year, allocation_order, status, classification, dpd,
                start_date, maturity_date, outstanding_principal, credit_balance,
                owner_id, created_by_id, created_at, version, compound_interest, penalty_from,
                classification_floor, rate_type, lpr_tenor, spread_bp, repricing, holiday_rule)
            SELECT 'C' || lpad(i::text, 9, '0'), %(first)s + (i * 7919) %% %(n)s, %(pv)s,
                10000000 + (i %% 97) * 1000000, 12, 24, 'equal_principal', 0, 0, 1.5, 0, 360,
                '["penalty","fee","interest","principal"]'::jsonb,
                CASE WHEN i %% 20 = 0 THEN 'overdue' WHEN i %% 20 = 1 THEN 'pending'
                     WHEN i %% 20 = 2 THEN 'paid_off' ELSE 'active' END,
                'normal', 0, '2026-01-15', '2028-01-15',
                CASE WHEN i %% 20 = 2 THEN 0 ELSE 5000000 + (i %% 89) * 500000 END, 0,
                %(owner)s, %(owner)s, now(), 1, true, 'due_date', '',
                'fixed', '1y', 0, 'annual_jan1', 'defer_penalty'
            FROM generate_series(1, (%(n)s * 6) / 10) AS i
            """,
            p,
        )
        cur.execute(
            """
            INSERT INTO lending_creditlimit (customer_id, amount, frozen, reason, updated_by_id,
                updated_at, version)
            SELECT %(first)s + i, 30000000 + (i %% 50) * 1000000, i %% 40 = 0, '', %(owner)s,
                   now(), 1
            FROM generate_series(0, %(n)s - 1, 5) AS i
            """,
            p,
        )
        cur.execute(
            """INSERT INTO lending_netassets (effective_date, amount, note, entered_by_id,
                created_at, updated_at) VALUES ('2026-01-01', 50000000000, '', %(owner)s,
                now(), now())""",
            p,
        )
        cur.execute("ANALYZE")
        print(f"  loans, limits, net assets in {time.perf_counter() - t:.1f} s", flush=True)
    return p


def _pct(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    url, cleanup = _setup_env(os.environ.get("DATABASE_URL"))
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        if connection.vendor != "postgresql":
            print("PostgreSQL only (set DATABASE_URL)")
            return 2
        print(f"database: {connection.vendor} ({url.split('@')[-1]})", flush=True)
        t = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"  migrated in {time.perf_counter() - t:.1f} s", flush=True)
        p = _generate(args.customers)

        from credo.lending.exposure import selectors, services

        t = time.perf_counter()
        selectors.top_exposures(fresh=True)
        ranking_ms = (time.perf_counter() - t) * 1000
        rng = random.Random(22)
        first, n = p["first"], args.customers
        sample = [first + rng.randrange(CIRCLE, n) for _ in range(args.samples)]
        groups = {cid: sorted(selectors.related_group(cid)) for cid in sample}
        check_ms: list[float] = []
        floor_ms: list[float] = []
        for cid in sample:
            t = time.perf_counter()
            services.concentration_check(customer=cid, additional_fen=50_000_000)
            check_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            with connection.cursor() as cur:
                cur.execute(
                    "SELECT sum(outstanding_principal) FROM lending_loan "
                    "WHERE customer_id = ANY(%s) AND status IN ('pending', 'active', 'overdue')",
                    [groups[cid]],
                )
                cur.fetchone()
            floor_ms.append((time.perf_counter() - t) * 1000)
        sizes = [len(g) for g in groups.values()]
        circle: list[float] = []
        for _ in range(5):
            t = time.perf_counter()
            services.concentration_check(customer=first + 7, additional_fen=50_000_000)
            circle.append((time.perf_counter() - t) * 1000)
        t = time.perf_counter()
        report = selectors.concentration_report()
        report_s = time.perf_counter() - t
        med, p95 = statistics.median(check_ms), _pct(check_ms, 0.95)
        fmed, fp95 = statistics.median(floor_ms), _pct(floor_ms, 0.95)
        ok = "✅" if p95 < 20 else "❌"
        print()
        print(
            f"Customers: {n:,}; sampled checks: {len(sample)}; group sizes "
            f"{min(sizes)}–{max(sizes)} (median {statistics.median(sizes):.0f}); "
            f"report groups: {len(report.groups)}"
        )
        print()
        print("| Benchmark | Target | Median | p95 | |")
        print("|---|---|---|---|---|")
        print(
            f"| concentration check per application | < 20 ms | {med:.1f} ms | {p95:.1f} ms | {ok} |"
        )
        print(f"| floor: one indexed SUM over the group | — | {fmed:.2f} ms | {fp95:.2f} ms | |")
        print(
            f"| check, member of a {CIRCLE}-customer guarantee circle | — | "
            f"{statistics.median(circle):.1f} ms | {max(circle):.1f} ms (max) | |"
        )
        print(
            f"| top-10 ranking from candidates (cached {selectors.TOP_CACHE_SECONDS} s) | — | {ranking_ms:.0f} ms | | |"
        )
        print(f"| concentration report (whole book) | — | {report_s:.2f} s | | |")
        return 0 if ok == "✅" else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
