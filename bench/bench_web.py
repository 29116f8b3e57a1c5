"""Web throughput under gunicorn in production mode (issue 19 item 5), PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_web \\
        .venv/bin/python -m bench.bench_web --loans 100000 --customers 50000 [--keep]

1. Prepares the database (skipped with ``--keep`` when the database already holds a book of
   the requested size): ``seed_demo`` (org units, one user per role, demo customers, loans with
   journal entries, draft applications), ``generate_customers`` up to ``--customers`` owned by
   the three demo account managers, ``bench_eod._generate`` for ``--loans`` loans (dated so
   that the last close of business is today), the loans spread over all customers and owned by
   their customers' managers, the report snapshot and due summary of that close of business,
   and the demo applications submitted (approval tasks).
2. Starts ``gunicorn credo.wsgi:application -w WORKERS`` (the worker count documented in
   docs/deployment.md) with ``CREDO_ENVIRONMENT=production``, Redis (``REDIS_URL``) when
   reachable and ``CREDO_DB_CONN_MAX_AGE=60``, logs real users in over HTTP (CSRF token + session
   cookie) and drives a mixed page set — customer list, customer 360, loan page, approval
   task, dashboard, home — with 1 and 16 concurrent users (threads, one keep-alive-free
   ``http.client`` connection each; gunicorn's sync workers close every connection).
3. In the bench process (Django test ``Client``, same database) the median of each page and of
   a trivial authenticated page (the empty search page: the shell with navigation only), with
   the number of SQL queries per page; ``--profile`` prints the top cProfile entries per page.
   In the same run the cheapest read there is (one column of one row by primary key, through
   the ORM and through a plain cursor), and per page its "reads floor": the trivial page plus
   one such ORM read per extra query — what the page would cost with the same number of reads
   and no template work at all.

Targets: mixed pages ≥ 80 requests/s at 16 users with p95 < 300 ms; dashboard p95 < 500 ms;
each page's in-process median ≤ 3× the trivial page. Exit 1 when one is missed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.bench_customers import _setup_env

PASSWORD = "Bench-web-pass-2026"  # noqa: S105 — throwaway benchmark users
MIX_RPS_TARGET = 80.0
MIX_P95_MS = 300.0
DASHBOARD_P95_MS = 500.0
RATIO_TARGET = 3.0
#: the worker count documented in docs/deployment.md and written by `credo deploy`: 2 × cores + 1
DOCUMENTED_WORKERS = 2 * (os.cpu_count() or 1) + 1
MARKER = "bench-web-book"  # an inactive user whose display name holds the generated sizes
REAL_LOANS = 30  # loans with postings and journal entries (the demo's booking path)


# --- data -------------------------------------------------------------------------------------
def _env_for_reuse(db_url: str) -> None:
    """The environment ``_setup_env`` sets, without dropping the database (``--keep``)."""
    os.environ.setdefault("CREDO_ENVIRONMENT", "test")
    os.environ.setdefault("CREDO_ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ.setdefault("CREDO_SECRET_KEY", "bench-secret-key-not-for-production-0123456789ab")
    os.environ.setdefault(
        "CREDO_ENCRYPTION_KEYS", "k1:dGVzdC1rZXktMDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY="
    )
    os.environ["DJANGO_SETTINGS_MODULE"] = "credo.settings"
    os.environ["DATABASE_URL"] = db_url


def _db_has_book(db_url: str, loans: int, customers: int) -> bool:
    import psycopg

    try:
        with psycopg.connect(db_url) as conn:
            row = conn.execute(
                "SELECT display_name FROM accounts_user WHERE username = %s", [MARKER]
            ).fetchone()
    except psycopg.Error:
        return False
    return bool(row) and row[0] == f"{loans}/{customers}"


def _generate(loans: int, customers: int) -> None:
    from django.core.management import call_command

    import bench.bench_eod as bench_eod
    from credo.accounts.models import User
    from credo.core import clock
    from credo.core.demo import demo_seeders
    from credo.customers.demo import generate_customers
    from credo.customers.models import Customer

    # seed_demo without its loan book: bench_eod's SQL generator fills lending_installment for
    # every loan in the table, so the synthetic book goes in first and a few loans with real
    # postings and journal entries (the demo's own booking path) are added after it.
    lending_seeder = demo_seeders.get("lending")
    demo_seeders.unregister("lending")
    t = time.perf_counter()
    try:
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    finally:
        if lending_seeder is not None:
            demo_seeders.register("lending", lending_seeder)
    print(f"  seed_demo (without loans) in {time.perf_counter() - t:.1f} s", flush=True)

    t = time.perf_counter()
    ams = list(
        User.objects.filter(username__in=["zhangwei", "lina", "wangfang"]).select_related(
            "org_unit__parent"
        )
    )
    missing = customers - Customer.objects.count() - 200  # bench_eod adds 200 of its own
    if missing > 0:
        generate_customers(
            missing, owners=ams, seed=19, batch=2000, with_relations=False, events_per_customer=1
        )
    print(f"  customers up to {customers:,} in {time.perf_counter() - t:.1f} s", flush=True)

    # The synthetic book's last close of business is yesterday on the production clock, so
    # the dashboard's figures come from yesterday's snapshot as after a real close of business.
    bench_eod.BUSINESS_DATE = clock.today()
    t = time.perf_counter()
    bench_eod._generate(loans)
    print(f"  {loans:,} loans in {time.perf_counter() - t:.1f} s", flush=True)

    _finish(loans, customers)


def _finish(loans: int, customers: int) -> None:
    """After the SQL book: loans spread over the customers, a few real loans, the snapshot."""
    from django.db import connection

    from credo.accounts.models import User
    from credo.core import clock
    from credo.customers.models import Customer
    from credo.lending import demo as lending_demo
    from credo.reports import services as report_services

    yesterday = clock.today() - dt.timedelta(days=1)
    t = time.perf_counter()
    with connection.cursor() as cur:
        # spread the synthetic loans over every customer; owner/team/branch = the customer's
        cur.execute(
            """
            WITH c AS (SELECT id, owner_id, team_id, branch_id,
                              row_number() OVER (ORDER BY id) - 1 AS k
                       FROM customers_customer),
                 l AS (SELECT id, mod(row_number() OVER (ORDER BY id) - 1,
                                  (SELECT count(*) FROM customers_customer)) AS k
                       FROM lending_loan)
            UPDATE lending_loan AS x
               SET customer_id = c.id, owner_id = c.owner_id, team_id = c.team_id,
                   branch_id = c.branch_id
              FROM l JOIN c ON c.k = l.k
             WHERE x.id = l.id
            """
        )
        cur.execute("ANALYZE")
    print(f"  loans spread over customers in {time.perf_counter() - t:.1f} s", flush=True)

    t = time.perf_counter()
    finance = User.objects.get(username="zhoumin")
    business, consumer = lending_demo._products()
    mine = list(
        Customer.objects.filter(owner__username="zhangwei", status="active")
        .select_related("owner")
        .order_by("id")[:REAL_LOANS]
    )
    with lending_demo._history_entry(finance) as clerk:
        lending_demo._seed_book(mine, business, consumer, clerk, random.Random(2026))  # noqa: S311
    print(
        f"  {len(mine)} loans booked through the services in {time.perf_counter() - t:.1f} s",
        flush=True,
    )

    t = time.perf_counter()
    report_services.snapshot_refresh(yesterday)
    report_services.due_summary_refresh(yesterday)
    print(f"  report snapshot of {yesterday} in {time.perf_counter() - t:.1f} s", flush=True)

    _submit_applications()
    User.objects.create(username=MARKER, display_name=f"{loans}/{customers}", is_active=False)
    with connection.cursor() as cur:
        # the steady state autovacuum keeps a live database in: statistics and the visibility
        # map (a freshly bulk-loaded table has none, so every count reads the heap)
        cur.execute("VACUUM ANALYZE")


def _submit_applications() -> None:
    """The demo's draft applications with their documents, submitted: approval tasks."""
    from credo.origination import services
    from credo.origination.demo import _png
    from credo.origination.models import Application

    for app in Application.objects.filter(status="draft").select_related("owner"):
        for item in services.checklist_items(app):
            if not app.documents.filter(item=item).exists():
                services.document_upload(
                    application=app, item=item, name="d.png", data=_png(), actor=app.owner
                )
        services.application_submit(application=app, actor=app.owner)


@dataclass
class Plan:
    """Who requests what: usernames and the URLs of each page kind."""

    users: dict[str, str]  # role in the mix → username
    customers: list[int]  # the account manager's customers
    loans: list[int]  # the account manager's loans
    task: int
    pages: dict[str, tuple[str, Any]] = field(default_factory=dict)


def _plan() -> Plan:
    from credo.accounts.models import User
    from credo.approvals.models import ApprovalTask
    from credo.customers.models import Customer
    from credo.lending.models import Loan

    task = (
        ApprovalTask.objects.filter(status="open", assignee__isnull=False)
        .select_related("assignee")
        .order_by("id")
        .first()
    )
    if task is None:
        raise SystemExit("no pending approval task with an assignee in the benchmark database")
    users = {"am": "zhangwei", "mgmt": "qianhui", "approver": task.assignee.username}
    for username in set(users.values()):
        u = User.objects.get(username=username)
        u.set_password(PASSWORD)
        u.save(update_fields=["password"])
    am = User.objects.get(username=users["am"])
    customers = list(
        Customer.objects.filter(owner=am).order_by("?").values_list("id", flat=True)[:500]
    )
    # the real loans (postings, journal entries) and as many synthetic ones
    real = list(
        Loan.objects.filter(owner=am).exclude(number__startswith="B").values_list("id", flat=True)
    )
    loans = real + list(
        Loan.objects.filter(owner=am, number__startswith="B")
        .order_by("?")
        .values_list("id", flat=True)[: max(len(real), 30)]
    )
    return Plan(users=users, customers=customers, loans=loans, task=task.pk)


def _mix(plan: Plan) -> list[tuple[str, str, Any]]:
    """(page, user role, url(rng)) — one round of the mixed page set, equal weights."""
    return [
        ("customer list", "am", lambda r: "/customers/" + ("" if r.random() < 0.5 else "?page=3")),
        ("customer list", "mgmt", lambda r: "/customers/"),
        ("customer 360", "am", lambda r: f"/customers/{r.choice(plan.customers)}/"),
        ("loan", "am", lambda r: f"/lending/loans/{r.choice(plan.loans)}/"),
        ("approval task", "approver", lambda r: f"/approvals/tasks/{plan.task}/"),
        ("dashboard", "mgmt", lambda r: "/reports/"),
        ("home", "am", lambda r: "/"),
        ("home", "mgmt", lambda r: "/"),
    ]


# --- HTTP load --------------------------------------------------------------------------------
_COOKIE = re.compile(r"^([^=;\s]+)=([^;]*)")


def _cookies(resp: http.client.HTTPResponse) -> dict[str, str]:
    out = {}
    for header in resp.headers.get_all("Set-Cookie") or []:
        m = _COOKIE.match(header)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def _request(
    port: int, method: str, path: str, cookies: dict[str, str], body: str | None = None
) -> tuple[int, dict[str, str], bytes, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Host": "127.0.0.1", "Accept-Language": "zh-hans"}
    if cookies:
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        headers["Referer"] = f"http://127.0.0.1:{port}/accounts/login/"
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, _cookies(resp), data, dict(resp.headers)
    finally:
        conn.close()


def login(port: int, username: str) -> dict[str, str]:
    from urllib.parse import urlencode

    status, cookies, body, _h = _request(port, "GET", "/accounts/login/", {})
    m = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or not m:
        raise SystemExit(f"login page: HTTP {status}")
    form = urlencode(
        {"csrfmiddlewaretoken": m.group(1).decode(), "username": username, "password": PASSWORD}
    )
    status, new, _b, headers = _request(port, "POST", "/accounts/login/", cookies, form)
    cookies.update(new)
    if status != 302 or "sessionid" not in cookies:
        raise SystemExit(f"login of {username}: HTTP {status} {headers.get('Location')}")
    return cookies


@dataclass
class Sample:
    page: str
    ms: float
    ok: bool


def drive(
    port: int,
    mix: list[tuple[str, str, Any]],
    sessions: dict[str, list[dict[str, str]]],
    users: int,
    seconds: float,
) -> tuple[list[Sample], float]:
    samples: list[Sample] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    errors: list[str] = []

    def vu(i: int) -> None:
        rng = random.Random(i)  # noqa: S311
        k = rng.randrange(len(mix))
        mine: list[Sample] = []
        while time.perf_counter() < deadline:
            page, role, url = mix[k % len(mix)]
            k += 1
            pool = sessions[role]
            cookies = pool[i % len(pool)]
            path = url(rng)
            t = time.perf_counter()
            try:
                status, _c, body, headers = _request(port, "GET", path, cookies)
                ok = status == 200
                if not ok and len(errors) < 5:
                    errors.append(f"{path}: HTTP {status} {headers.get('Location', '')}")
            except OSError as exc:
                ok = False
                if len(errors) < 5:
                    errors.append(f"{path}: {exc}")
            mine.append(Sample(page, (time.perf_counter() - t) * 1000, ok))
        with lock:
            samples.extend(mine)

    threads = [threading.Thread(target=vu, args=(i,)) for i in range(users)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for e in errors:
        print(f"    error: {e}", flush=True)
    return samples, time.perf_counter() - start


# --- where the CPU goes during a phase -----------------------------------------------------------
def _proc_cpu() -> dict[str, float]:
    """CPU seconds so far by kind of process: the gunicorn processes (by process group, see
    ``start_gunicorn``), PostgreSQL (every ``postgres`` process: backends, WAL writer …), Redis,
    this bench (the load generator), and the machine's busy time (``/proc/stat``)."""
    tick = os.sysconf("SC_CLK_TCK")
    me = os.getpid()
    out = {"web": 0.0, "postgres": 0.0, "redis": 0.0, "load": 0.0, "busy": 0.0}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                raw = f.read()
        except OSError:
            continue
        comm = raw[raw.index("(") + 1 : raw.rindex(")")]
        fields = raw[raw.rindex(")") + 2 :].split()
        cpu = (int(fields[11]) + int(fields[12])) / tick
        if int(entry) == me:
            out["load"] += cpu
        elif _GUNICORN_PGID and int(fields[2]) == _GUNICORN_PGID:
            out["web"] += cpu
        elif comm == "postgres":
            out["postgres"] += cpu
        elif comm.startswith("redis"):
            out["redis"] += cpu
    with open("/proc/stat") as f:
        ticks = [int(x) for x in f.readline().split()[1:]]
    out["busy"] = (sum(ticks) - ticks[3] - ticks[4]) / tick  # minus idle and iowait
    return out


_GUNICORN_PGID = 0


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def start_gunicorn(port: int, workers: int, db_url: str, redis: bool) -> subprocess.Popen[bytes]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CREDO_", "DJANGO_", "REDIS_", "DATABASE_"))
    }
    env.update(
        {
            "CREDO_ENVIRONMENT": "production",
            "CREDO_SECRET_KEY": os.environ["CREDO_SECRET_KEY"],
            "CREDO_ENCRYPTION_KEYS": os.environ["CREDO_ENCRYPTION_KEYS"],
            "CREDO_DATA_DIR": os.environ["CREDO_DATA_DIR"],
            "CREDO_ALLOWED_HOSTS": "127.0.0.1",
            "CREDO_DB_CONN_MAX_AGE": "60",
            "CREDO_LOG_LEVEL": "WARNING",
            "DATABASE_URL": db_url,
        }
    )
    if redis:
        env["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "credo.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
            "--timeout",
            "60",
        ],
        env=env,
        start_new_session=True,
    )
    global _GUNICORN_PGID
    _GUNICORN_PGID = proc.pid  # its own session: the workers share the master's process group
    for _ in range(300):
        time.sleep(0.2)
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}")
        try:
            if _request(port, "GET", "/accounts/login/", {})[0] == 200:
                return proc
        except OSError:
            continue
    proc.terminate()
    raise SystemExit("gunicorn did not answer within 60 s")


def _redis_ok() -> bool:
    try:
        import redis

        url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001 — no Redis: the per-process cache
        return False


# --- in-process -------------------------------------------------------------------------------
def in_process(
    plan: Plan, mix: list[tuple[str, str, Any]], repeat: int, profile: bool
) -> dict[str, tuple[float, int, float]]:
    """page → (median ms, queries, median CPU ms of the bench process) with the Django test client; "trivial" = the empty search
    page (the authenticated shell: navigation, no data)."""
    import cProfile
    import pstats

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from credo.accounts.models import User

    clients = {}
    for role, username in plan.users.items():
        c = Client()
        c.force_login(User.objects.get(username=username))
        clients[role] = c
    targets: list[tuple[str, str, Any]] = [("trivial", "am", lambda r: "/search/")]
    seen = set()
    for page, role, url in mix:
        if page not in seen:
            seen.add(page)
            targets.append((page, role, url))
    out: dict[str, tuple[float, int, float]] = {}
    for page, role, url in targets:
        rng = random.Random(7)  # noqa: S311
        client = clients[role]
        for _ in range(2):
            resp = client.get(url(rng))
            assert resp.status_code == 200, (page, resp.status_code)
        samples, cpu = [], []
        for _ in range(repeat):
            path = url(rng)
            t, c = time.perf_counter(), time.process_time()
            client.get(path)
            samples.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        with CaptureQueriesContext(connection) as q:
            client.get(url(rng))
        out[page] = (statistics.median(samples), len(q.captured_queries), statistics.median(cpu))
        if profile:
            prof = cProfile.Profile()
            prof.enable()
            for _ in range(5):
                client.get(url(rng))
            prof.disable()
            print(f"\n--- profile: {page} (5 requests) ---")
            pstats.Stats(prof).sort_stats("cumulative").print_stats(25)
            for sql in q.captured_queries:
                print(f"    [{sql['time']}] {sql['sql'][:160]}")
    return out


def read_floor(repeat: int = 400) -> tuple[float, float]:
    """(ORM, raw) median ms of the cheapest read a page can make, in the bench process on the
    same database: one column of one row by primary key, through the ORM (``values_list`` —
    no model instance) and through a plain cursor. A page with q reads cannot take less than
    the trivial page + (q - 1) × the ORM figure (the user row is the trivial page's own read),
    whatever its templates cost."""
    from django.db import connection

    from credo.lending.models import Loan

    ids = list(Loan.objects.order_by("id").values_list("id", flat=True)[:repeat])
    orm, raw = [], []
    with connection.cursor() as cur:
        for pk in ids:
            t = time.perf_counter()
            list(Loan.objects.filter(pk=pk).values_list("number", flat=True)[:1])
            orm.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            cur.execute("SELECT number FROM lending_loan WHERE id = %s LIMIT 1", [pk])
            cur.fetchall()
            raw.append((time.perf_counter() - t) * 1000)
    return statistics.median(orm), statistics.median(raw)


# --- main -------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--workers", type=int, default=DOCUMENTED_WORKERS)
    parser.add_argument("--users", default="1,16", help="concurrent users per phase")
    parser.add_argument("--seconds", type=float, default=20.0, help="per phase")
    parser.add_argument("--repeat", type=int, default=15, help="in-process samples per page")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--no-redis", action="store_true", help="without REDIS_URL")
    parser.add_argument("--profile", action="store_true", help="cProfile + SQL per page")
    parser.add_argument("--skip-http", action="store_true", help="only the in-process part")
    parser.add_argument("--keep", action="store_true", help="keep (and reuse) the database")
    args = parser.parse_args(argv)
    db_url = os.environ.get("DATABASE_URL", "")
    if not db_url.startswith("postgres"):
        print("bench_web needs DATABASE_URL=postgres://… (PostgreSQL only)")
        return 2
    data_dir = Path(f"/tmp/credo-bench-web-{db_url.rsplit('/', 1)[-1]}")
    reuse = args.keep and _db_has_book(db_url, args.loans, args.customers)
    if not reuse:
        shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["CREDO_DATA_DIR"] = str(data_dir)
    if reuse:
        _env_for_reuse(db_url)
        cleanup = lambda: None  # noqa: E731
    else:
        _url, cleanup = _setup_env(db_url)
    redis = not args.no_redis and _redis_ok()
    if redis:  # the bench process (in-process medians) shares the web processes' cache
        os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    proc = None
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        if reuse:
            print(f"reusing {args.loans:,} loans / {args.customers:,} customers", flush=True)
        else:
            t = time.perf_counter()
            _generate(args.loans, args.customers)
            print(f"  prepared in {time.perf_counter() - t:.1f} s", flush=True)
        plan = _plan()
        mix = _mix(plan)

        inproc = in_process(plan, mix, args.repeat, args.profile)
        floor = read_floor()
        http_rows: list[tuple[int, float, dict[str, list[float]], int, int]] = []
        cpu_per_request: dict[int, dict[str, float]] = {}
        if not args.skip_http:
            proc = start_gunicorn(args.port, args.workers, db_url, redis)
            sessions = {
                role: [login(args.port, username) for _ in range(4)]
                for role, username in plan.users.items()
            }
            drive(args.port, mix, sessions, 4, 3.0)  # warm-up: every worker, every page
            for users in [int(u) for u in args.users.split(",")]:
                before = _proc_cpu()
                samples, elapsed = drive(args.port, mix, sessions, users, args.seconds)
                after = _proc_cpu()
                cpu_per_request[users] = {
                    k: (after[k] - before[k]) * 1000 / max(1, len(samples)) for k in after
                }
                per: dict[str, list[float]] = defaultdict(list)
                for s in samples:
                    per[s.page].append(s.ms)
                errors = sum(1 for s in samples if not s.ok)
                http_rows.append((users, elapsed, per, len(samples), errors))
                print(
                    f"  {users} users: {len(samples) / elapsed:.1f} req/s, p95 "
                    f"{_pct([s.ms for s in samples], 95):.0f} ms, {errors} errors",
                    flush=True,
                )
        return report(args, inproc, http_rows, redis, cpu_per_request, floor)
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
        if not args.keep:
            cleanup()
            shutil.rmtree(data_dir, ignore_errors=True)


def report(
    args: argparse.Namespace,
    inproc: dict[str, tuple[float, int, float]],
    http_rows: list[tuple[int, float, dict[str, list[float]], int, int]],
    redis: bool,
    cpu_per_request: dict[int, dict[str, float]] | None = None,
    floor: tuple[float, float] | None = None,
) -> int:
    ok = True
    print()
    print(
        f"{args.loans:,} loans / {args.customers:,} customers, PostgreSQL; gunicorn -w "
        f"{args.workers}, CREDO_ENVIRONMENT=production, "
        f"{'Redis cache/sessions' if redis else 'no Redis'}; {os.cpu_count()} CPUs"
    )
    print()
    orm_read = floor[0] if floor else 0.0
    print(
        "| Page | in-process median | CPU (Python) | queries | × trivial | "
        "reads floor (× trivial) | target | |"
    )
    print("|---|---|---|---|---|---|---|---|")
    trivial = inproc["trivial"][0]
    for page, (ms, queries, cpu) in inproc.items():
        ratio = ms / trivial
        passed = page == "trivial" or ratio <= RATIO_TARGET
        ok = ok and passed
        least = trivial + max(0, queries - 1) * orm_read
        print(
            f"| {page} | {ms:.1f} ms | {cpu:.1f} ms | {queries} | {ratio:.1f}× | "
            f"{least:.1f} ms ({least / trivial:.1f}×) | "
            f"{'' if page == 'trivial' else f'≤ {RATIO_TARGET:g}×'} | "
            f"{'' if page == 'trivial' else ('✅' if passed else '❌')} |"
        )
    if floor:
        print()
        print(
            f"Cheapest read (one column of one row by primary key, median of 400): ORM "
            f"{floor[0] * 1000:.0f} µs, plain cursor {floor[1] * 1000:.0f} µs. Reads floor = the "
            "trivial page + (queries − 1) × the ORM read: the least a page making that many "
            "reads can take, with no template at all."
        )
    for users, elapsed, per, n, errors in http_rows:
        print()
        rps = n / elapsed
        every = [ms for values in per.values() for ms in values]
        p95 = _pct(every, 95)
        print(f"**{users} concurrent user{'s' if users > 1 else ''}** ({elapsed:.0f} s)")
        print()
        print("| Page | requests | req/s | p50 | p95 | target | |")
        print("|---|---|---|---|---|---|---|")
        for page, values in sorted(per.items()):
            target, passed = "", True
            if page == "dashboard" and users >= 16:
                passed = _pct(values, 95) < DASHBOARD_P95_MS
                target = f"p95 < {DASHBOARD_P95_MS:g} ms"
            ok = ok and passed
            print(
                f"| {page} | {len(values)} | {len(values) / elapsed:.1f} | "
                f"{_pct(values, 50):.0f} ms | {_pct(values, 95):.0f} ms | {target} | "
                f"{('✅' if passed else '❌') if target else ''} |"
            )
        target, passed = "", errors == 0
        if users >= 16:
            passed = passed and rps >= MIX_RPS_TARGET and p95 < MIX_P95_MS
            target = f"≥ {MIX_RPS_TARGET:g} req/s, p95 < {MIX_P95_MS:g} ms, no errors"
        ok = ok and passed
        print(
            f"| **mixed** | {n} ({errors} errors) | {rps:.1f} | {_pct(every, 50):.0f} ms | "
            f"{p95:.0f} ms | {target} | {'✅' if passed else '❌'} |"
        )
    if cpu_per_request:
        print()
        print("CPU per request during each phase (ms; busy = the whole machine, all cores):")
        print()
        print("| users | web (gunicorn) | PostgreSQL | Redis | load generator | machine busy |")
        print("|---|---|---|---|---|---|")
        for users, c in cpu_per_request.items():
            print(
                f"| {users} | {c['web']:.1f} | {c['postgres']:.1f} | {c['redis']:.1f} | "
                f"{c['load']:.1f} | {c['busy']:.1f} |"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
