"""Audit chain without a global lock (issue 19 item 3), PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_audit \\
        .venv/bin/python -m bench.bench_audit [--writers 8] [--seconds 20] [--repeat 3] \\
        [--minutes 0] [--keep]

Sets its own environment (test keys, ``CREDO_ENVIRONMENT=test``) and migrates a fresh database
(dropped/created, and dropped at the end unless ``--keep``).

**Throughput** — ``--writers`` processes (default 8), each running small business-like
transactions for ``--seconds``: lock its own row (``SELECT … FOR UPDATE``), ``UPDATE`` it,
``audit_record(...)``, insert a timeline-like row, commit. Three modes, alternating for
``--repeat`` rounds in the same run (medians reported, so a machine shared with other jobs
affects all modes alike):

* **peer** — today's behaviour before this issue, emulated: inside each transaction, right
  before the audit row, a ``SELECT … FOR UPDATE`` + ``UPDATE`` of one shared row (what every
  writer did to ``AuditChainHead``), held until commit. The audit row itself is written by
  the current (cheaper) ``audit_record``, so the emulated baseline is, if anything, faster
  than the old code was;
* **new** — the same transaction with ``audit_record`` only (no shared row); a sealer process
  runs ``audit_seal`` every second meanwhile, as the scheduled task would;
* **floor** — the same transaction without any audit row: the ceiling of every audit design
  on this machine (floor / peer is the best ratio any design could show).

Prints the rates (transactions/s), the CPU per transaction (writer processes, their
PostgreSQL backends — read from ``/proc`` when the server is local — and the sealer), the
ratio new/peer (target ≥ 4×) and floor/peer, the sealer lag, and that ``audit_verify`` passes.

**Mixed** (``--minutes N``) — for N minutes at once: the writers, a sealer loop, a verify loop
(``audit_verify``), and the two lock-order pairs with the real services: a signer process
(application → auto-approved → contract sent → signed callback → loan: locks the credit limit)
against a ``limit_set`` process on the same customer, and an application-submit process
(locks the approval flow) against a ``flow_version_create`` + ``flow_version_publish``
process. Deadlocks are counted from ``pg_stat_database.deadlocks`` and from every
``deadlock detected`` error the workers see. Target: 0.

Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
import traceback
from typing import Any

from bench.bench_customers import _setup_env

RATIO_TARGET = 4.0


def _django() -> None:
    import django

    django.setup()


def _fresh_connection() -> None:
    from django.db import connections

    connections.close_all()


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _cpu_seconds() -> tuple[float, float]:
    """CPU seconds (user + system) used so far by this process and by its PostgreSQL backend
    (read from /proc when the server runs on this machine; 0 otherwise). CPU per transaction
    is the load-independent cost of one audited write, whatever else shares the cores."""
    from django.db import connection

    own = os.times()
    backend = 0.0
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        backend = (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, IndexError, ValueError):
        pass
    return own.user + own.system, backend


# --- throughput ---------------------------------------------------------------------------------
def _writer(
    idx: int, mode: str, seconds: float, start: Any, out: Any, deadline_at: float | None = None
) -> None:
    _django()
    _fresh_connection()
    from django.db import OperationalError, connection, transaction

    from credo.core.audit.services import audit_record

    done, deadlocks = 0, 0
    cpu0 = _cpu_seconds()
    start.wait()
    stop = deadline_at or (time.monotonic() + seconds)
    while time.monotonic() < stop:
        try:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("SELECT n FROM bench_audit_row WHERE id = %s FOR UPDATE", [idx])
                cur.execute("UPDATE bench_audit_row SET n = n + 1 WHERE id = %s", [idx])
                if mode == "peer":  # the old audit head: one shared row locked until commit
                    cur.execute("SELECT n FROM bench_audit_peer WHERE id = 1 FOR UPDATE")
                    cur.execute("UPDATE bench_audit_peer SET n = n + 1 WHERE id = 1")
                if mode != "floor":  # floor: the business part alone, no audit row at all
                    audit_record(
                        action="bench.changed",
                        object_type="bench.row",
                        object_id=idx,
                        changes={"n": {"before": done, "after": done + 1}},
                        metadata={"writer": idx},
                    )
                cur.execute(
                    "INSERT INTO bench_audit_event (row_id, title) VALUES (%s, %s)",
                    [idx, f"writer {idx} change {done}"],
                )
            done += 1
        except OperationalError as exc:
            if "deadlock" not in str(exc):
                raise
            deadlocks += 1
    cpu1 = _cpu_seconds()
    out.put(("writer", idx, done, deadlocks, cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]))
    _fresh_connection()


def _sealer(stop_at: float, start: Any, out: Any, pause: float = 1.0) -> None:
    _django()
    _fresh_connection()
    from credo.core.audit.services import audit_lag, audit_seal

    cpu0 = _cpu_seconds()
    start.wait()
    sealed, max_lag = 0, 0.0
    while time.monotonic() < stop_at:
        sealed += audit_seal(wait=False).sealed
        lag = audit_lag()
        max_lag = max(max_lag, lag.oldest_seconds or 0.0)
        time.sleep(pause)
    cpu1 = _cpu_seconds()
    out.put(("sealer", 0, sealed, max_lag, cpu1[0] - cpu0[0], cpu1[1] - cpu0[1]))
    _fresh_connection()


def _setup_tables() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_audit_row, bench_audit_peer, bench_audit_event")
        cur.execute("CREATE TABLE bench_audit_row (id int PRIMARY KEY, n bigint NOT NULL)")
        cur.execute("CREATE TABLE bench_audit_peer (id int PRIMARY KEY, n bigint NOT NULL)")
        cur.execute(
            "CREATE TABLE bench_audit_event (id bigserial PRIMARY KEY, row_id int, title text)"
        )
        cur.execute("INSERT INTO bench_audit_row SELECT g, 0 FROM generate_series(0, 63) g")
        cur.execute("INSERT INTO bench_audit_peer VALUES (1, 0)")


def _run_writers(mode: str, writers: int, seconds: float, *, with_sealer: bool) -> dict[str, Any]:
    ctx = mp.get_context("fork")
    _fresh_connection()
    start = ctx.Barrier(writers + (1 if with_sealer else 0) + 1)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(i, mode, seconds, start, out)) for i in range(writers)
    ]
    if with_sealer:
        stop_at = time.monotonic() + seconds + 1
        procs.append(ctx.Process(target=_sealer, args=(stop_at, start, out)))
    for p in procs:
        p.start()
    start.wait()
    t0 = time.monotonic()
    results = [out.get(timeout=seconds + 300) for _ in procs]
    elapsed = time.monotonic() - t0
    for p in procs:
        p.join()
    done = sum(r[2] for r in results if r[0] == "writer")
    writers_ = [r for r in results if r[0] == "writer"]
    sealers = [r for r in results if r[0] == "sealer"]
    per_tx = 1000.0 / done if done else 0.0
    return {
        "client_ms": sum(r[4] for r in writers_) * per_tx,
        "server_ms": sum(r[5] for r in writers_) * per_tx,
        "sealer_ms": sum(r[4] + r[5] for r in sealers) * per_tx,
        "tx": done,
        "rate": done / seconds,
        "elapsed": elapsed,
        "deadlocks": sum(r[3] for r in results if r[0] == "writer"),
        "max_lag": max((r[3] for r in results if r[0] == "sealer"), default=0.0),
    }


# --- mixed: the lock-order pairs with the real services --------------------------------------------
def _world() -> dict[str, Any]:
    """An organisation, a staff user with the origination permissions, an enterprise customer
    with a credit limit and a product requiring two documents (as the origination tests)."""
    import datetime as dt
    from decimal import Decimal

    from django.contrib.auth.models import Permission

    from credo.accounts.models import OrgUnit, Role, User
    from credo.core.money import Money
    from credo.core.validators import uscc_check_char
    from credo.customers import services as customer_services
    from credo.lending.limits.services import limit_set
    from credo.lending.models import Product, ProductVersion

    head = OrgUnit.objects.create(code="hq", name="总部", kind=OrgUnit.Kind.HEAD_OFFICE)
    branch = OrgUnit.objects.create(code="ty", name="太原", kind=OrgUnit.Kind.BRANCH, parent=head)
    team = OrgUnit.objects.create(code="ty-a", name="一组", kind=OrgUnit.Kind.TEAM, parent=branch)
    role = Role.objects.create(code="bench_staff", name="基准", data_scope="all")
    perms = {
        "origination": [
            "view_application",
            "add_application",
            "change_application",
            "submit_application",
        ],
        "customers": ["view_customer", "add_customer"],
        "lending": ["view_loan", "view_product"],
    }
    for app_label, codenames in perms.items():
        role.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )
    user = User.objects.create_user(username="bench", password="x", org_unit=team)
    user.roles.add(role)
    product = Product.objects.create(code="jy", name="经营贷")
    pv = ProductVersion.objects.create(  # type: ignore[misc]  # MoneyField stores Money
        product=product,
        number=1,
        status="published",
        min_amount=Money("10000"),
        max_amount=Money("5000000"),
        min_months=3,
        max_months=60,
        min_rate=Decimal("4"),
        max_rate=Decimal("18"),
        method="equal_installment",
        penalty_multiplier=Decimal("1.5"),
        allocation_order=["penalty", "fee", "interest", "principal"],
        required_documents=["营业执照"],
    )
    body = "91140100MA0000001"
    customer = customer_services.customer_create(
        actor=user,
        data={
            "kind": "enterprise",
            "name": "太原基准企业有限公司",
            "uscc": body + uscc_check_char(body),
            "region_code": "140105",
            "registered_capital": "5000000",
            "industry": "F",
            "founded_on": dt.date(2015, 3, 1),
        },
    )
    limit_set(customer=customer, amount=Money("900000000"), actor=user, reason="基准")
    return {"user": user.pk, "customer": customer.pk, "pv": pv.pk}


def _png() -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buf, format="PNG")
    return buf.getvalue()


def _loop(kind: str, world: dict[str, Any], stop_at: float, start: Any, out: Any) -> None:
    _django()
    _fresh_connection()
    from decimal import Decimal

    from django.db import OperationalError

    from credo.accounts.models import User
    from credo.approvals.services import flows
    from credo.contracts import services as contracts
    from credo.contracts.selectors import contract_for
    from credo.core.audit.services import audit_verify
    from credo.core.money import Money
    from credo.customers.models import Customer
    from credo.lending.limits.services import limit_set
    from credo.lending.models import ProductVersion
    from credo.origination import services
    from credo.origination.services import submission
    from credo.origination.services.common import FLOW_KEY

    submission._risk = lambda customer: (800, "A")  # type: ignore[assignment]  # auto route
    user = User.objects.get(pk=world["user"])
    customer = Customer.objects.get(pk=world["customer"])
    pv = ProductVersion.objects.get(pk=world["pv"])
    png = _png()
    done, deadlocks, errors = 0, 0, []
    start.wait()
    while time.monotonic() < stop_at:
        try:
            if kind in ("sign", "submit"):
                app = services.application_create(
                    customer=customer,
                    product_version=pv,
                    amount=Money("30000"),
                    months=12,
                    annual_rate=Decimal("12"),
                    purpose="采购原材料",
                    actor=user,
                )
                services.document_upload(
                    application=app, item="营业执照", name="l.png", data=png, actor=user
                )
                app = services.application_submit(application=app, actor=user)
                if kind == "sign" and app.status == "contract_sent":
                    contract = contract_for(app)
                    assert contract is not None
                    contracts.contract_simulate(contract=contract, outcome="signed", actor=user)
            elif kind == "limit":
                amount = Money("900000000") if done % 2 else Money("800000000")
                limit_set(customer=customer, amount=amount, actor=user, reason=f"基准 {done}")
            elif kind == "publish":
                flow = flows.ensure_flow(FLOW_KEY)
                draft = flow.versions.filter(status="draft").first()
                draft = draft or flows.flow_version_create(flow=flow, actor=user)
                flows.flow_version_publish(version=draft, actor=user)
            elif kind == "verify":
                result = audit_verify()
                if not result.ok:
                    errors.append(f"verify: {result.reason}")
                time.sleep(2)
            done += 1
        except OperationalError as exc:
            if "deadlock" in str(exc):
                deadlocks += 1
            else:
                errors.append(f"{kind}: {exc}")
        except Exception:  # noqa: BLE001 — reported, the loop goes on
            errors.append(f"{kind}: {traceback.format_exc(limit=3)}")
    out.put((kind, 0, done, deadlocks, errors[:5], len(errors)))
    _fresh_connection()


def _pg_deadlocks() -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
        return int(cur.fetchone()[0])


def _run_mixed(writers: int, minutes: float) -> dict[str, Any]:
    world = _world()
    ctx = mp.get_context("fork")
    _fresh_connection()
    before = _pg_deadlocks()
    _fresh_connection()
    seconds = minutes * 60
    loops = ["sign", "limit", "submit", "publish", "verify"]
    start = ctx.Barrier(writers + 1 + len(loops) + 1)
    out = ctx.Queue()
    stop_at = time.monotonic() + seconds + 5
    procs = [
        ctx.Process(target=_writer, args=(i, "new", seconds, start, out, stop_at))
        for i in range(writers)
    ]
    procs.append(ctx.Process(target=_sealer, args=(stop_at, start, out)))
    procs += [ctx.Process(target=_loop, args=(k, world, stop_at, start, out)) for k in loops]
    for p in procs:
        p.start()
    start.wait()
    results = [out.get(timeout=seconds + 600) for _ in procs]
    for p in procs:
        p.join()
    after = _pg_deadlocks()
    _fresh_connection()
    summary: dict[str, Any] = {"pg_deadlocks": after - before, "seen_deadlocks": 0, "errors": []}
    for r in results:
        kind = r[0]
        if kind == "writer":
            summary["writes"] = summary.get("writes", 0) + r[2]
            summary["seen_deadlocks"] += r[3]
        elif kind == "sealer":
            summary["sealed"], summary["max_lag"] = r[2], r[3]
        else:
            summary[kind] = r[2]
            summary["seen_deadlocks"] += r[3]
            summary["errors"] += r[4]
            summary[f"{kind}_errors"] = r[5]
    return summary


def _median(values: list[float]) -> float:
    import statistics

    return float(statistics.median(values)) if values else 0.0


def _load() -> str:
    try:
        return " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--minutes", type=float, default=0.0, help="mixed concurrency run")
    parser.add_argument("--repeat", type=int, default=3, help="rounds of the throughput modes")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        print("bench_audit needs PostgreSQL (DATABASE_URL=postgres://…)")
        return 2
    url, cleanup = _setup_env(url)
    _django()
    from django.core.management import call_command

    from credo.core.audit.services import audit_lag, audit_seal, audit_verify

    call_command("migrate", verbosity=0)
    _setup_tables()
    failed = False
    try:
        print(
            f"# audit chain: {args.writers} writer processes, {args.seconds:g} s per mode, "
            f"{args.repeat} rounds (peer, new, floor alternating); load {_load()}",
            flush=True,
        )
        rounds: dict[str, list[dict[str, Any]]] = {"peer": [], "new": [], "floor": []}
        for n in range(args.repeat):
            for mode in rounds:
                audit_seal()
                r = _run_writers(mode, args.writers, args.seconds, with_sealer=mode == "new")
                rounds[mode].append(r)
                print(
                    f"  round {n + 1} {mode:5s} {r['rate']:7,.0f} tx/s  CPU per tx: client "
                    f"{r['client_ms']:.2f} ms, server {r['server_ms']:.2f} ms, sealer "
                    f"{r['sealer_ms']:.2f} ms  (load {_load()})",
                    flush=True,
                )
        lag = audit_lag()
        t = time.perf_counter()
        result = audit_verify(checkpoint=False)
        verify_s = time.perf_counter() - t
        med = {m: {k: _median([r[k] for r in rs]) for k in rs[0]} for m, rs in rounds.items()}
        ratios = [n["rate"] / p["rate"] for n, p in zip(rounds["new"], rounds["peer"], strict=True)]
        ceiling = [
            f["rate"] / p["rate"] for f, p in zip(rounds["floor"], rounds["peer"], strict=True)
        ]
        ratio = med["new"]["rate"] / med["peer"]["rate"] if med["peer"]["rate"] else float("inf")
        ok_ratio = ratio >= RATIO_TARGET
        print()
        print(f"| measure (median of {args.repeat}) | value |")
        print("|---|---|")
        print(f"| writers | {args.writers} processes × {args.seconds:g} s per mode and round |")
        for mode, label in (
            ("peer", "peer: shared row locked until commit (before issue 19)"),
            ("new", "new: audit_record, no shared row, sealer every 1 s"),
            ("floor", "floor: the same transaction without an audit row"),
        ):
            m = med[mode]
            print(
                f"| {label} | {m['rate']:,.0f} tx/s (CPU per tx: client {m['client_ms']:.2f}, "
                f"server {m['server_ms']:.2f}, sealer {m['sealer_ms']:.2f} ms) |"
            )
        print(
            f"| ratio new / peer (target ≥ {RATIO_TARGET:g}×) | {ratio:.2f}× "
            f"{'✅' if ok_ratio else '❌'} (per round: {', '.join(f'{x:.2f}' for x in ratios)}) |"
        )
        print(
            f"| ceiling floor / peer (no audit at all) | {_median(ceiling):.2f}× "
            f"(per round: {', '.join(f'{x:.2f}' for x in ceiling)}) |"
        )
        print(
            f"| new / floor (what the audit row costs) | "
            f"{med['new']['rate'] / med['floor']['rate']:.2f} |"
        )
        print(
            f"| sealer (every 1 s): oldest unsealed row seen | "
            f"{max(r['max_lag'] for r in rounds['new']):.1f} s (max over rounds) |"
        )
        print(f"| unsealed at the end of the run | {lag} |")
        print(
            f"| verify (seals the rest, walks {result.checked:,} rows) | "
            f"{verify_s:.1f} s, {'ok' if result.ok else result.reason} |"
        )
        print(f"| load average at the end | {_load()} |")
        deadlocks = sum(r["deadlocks"] for rs in rounds.values() for r in rs)
        failed = not ok_ratio or not result.ok or bool(deadlocks)
        if args.minutes:
            print(f"\n# mixed concurrency: {args.minutes:g} min", flush=True)
            mixed = _run_mixed(args.writers, args.minutes)
            result = audit_verify(checkpoint=False)
            print("| measure | value |")
            print("|---|---|")
            for key in ("writes", "sealed", "sign", "limit", "submit", "publish", "verify"):
                print(f"| {key} | {mixed.get(key, 0):,} |")
            print(f"| max sealer lag | {mixed.get('max_lag', 0):.1f} s |")
            for key in ("sign", "limit", "submit", "publish", "verify"):
                if mixed.get(f"{key}_errors"):
                    print(f"| {key} errors | {mixed[f'{key}_errors']} |")
            deadlocks = mixed["pg_deadlocks"] + mixed["seen_deadlocks"]
            print(
                f"| deadlocks (pg_stat_database + seen; target 0) | {mixed['pg_deadlocks']} + "
                f"{mixed['seen_deadlocks']} {'✅' if not deadlocks else '❌'} |"
            )
            print(
                f"| verify after the run | {'ok' if result.ok else result.reason} "
                f"({result.checked:,} rows) |"
            )
            for err in mixed["errors"]:
                print("  error:", err.strip().splitlines()[-1][:300])
            failed = failed or bool(deadlocks) or not result.ok
    finally:
        if not args.keep:
            cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
