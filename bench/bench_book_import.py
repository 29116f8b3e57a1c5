"""Book migration (存量贷款迁移) benchmark, PostgreSQL only.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/credo_bench_book \\
        .venv/bin/python -m bench.bench_book_import --loans 10000

Generates a workbook (openpyxl write-only) of N loans × 24 monthly installments (half
enterprises, half individuals, two loans per customer, 等额本息/等额本金 alternating) and 12
repayment rows per loan (120,000 for 10,000 loans; ≈5 % of the loans pay 10 days late, so the
catch-up has penalty and DPD to compute), shuffled. Then times, in the same run:

* ``read+check``: ``credo book import --dry-run``'s checks without the write (reading, cell and
  cross-row checks, customer matching);
* ``import``: the real ``book_import`` — customers, loans, schedules, disbursement entries,
  repayments in value-date order and the catch-up (replay) to the as-of date, reconciliation;
* ``re-import``: the same file again (must be "unchanged");
* ``floor``: a bulk insert of the same rows (loans, installments, journal entries and lines,
  postings) with ``bulk_create``, rolled back — what writing the book costs with no checks,
  no allocation and no catch-up.

Target (issue 18): the import of 10,000 loans with 120,000 repayments incl. catch-up < 10 min.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import random
import sys
import time
from decimal import Decimal
from typing import Any

from bench.bench_customers import _setup_env

AS_OF = dt.date(2026, 1, 31)
FIRST_DISBURSEMENT = dt.date(2025, 1, 2)
MONTHS = 24
PAID = 12


def _uscc(i: int) -> str:
    from credo.core.validators import uscc_check_char

    body = f"911401{i:011d}"[:17]
    return body + uscc_check_char(body)


def _id_number(i: int) -> str:
    from credo.core.validators import id_check_char

    birth = dt.date(1970, 1, 1) + dt.timedelta(days=i % 9000)
    body = f"140105{birth:%Y%m%d}{i % 1000:03d}"
    return body + id_check_char(body)


def generate_workbook(n: int, seed: int = 18) -> tuple[bytes, int]:
    """The workbook bytes and the number of repayment rows."""
    from openpyxl import Workbook

    from credo.lending.schedule import generate

    rng = random.Random(seed)
    wb = Workbook(write_only=True)
    loans = wb.create_sheet("loans")
    loans.append(
        [
            "贷款编号",
            "证件号码",
            "客户名称",
            "客户类型",
            "产品代码",
            "放款日",
            "放款金额",
            "年利率(%)",
            "期数",
            "还款方式",
            "还款日",
            "剩余本金",
        ]
    )
    reps: list[list[Any]] = []
    for i in range(n):
        customer = i // 2
        enterprise = customer % 2 == 0
        ident = _uscc(customer) if enterprise else _id_number(customer)
        name = f"迁移企业{customer}有限公司" if enterprise else f"个人客户{customer}"
        start = FIRST_DISBURSEMENT + dt.timedelta(days=rng.randrange(0, 25))
        principal = rng.randrange(50_000, 500_000) * 100
        rate = Decimal(rng.choice(["6", "7.2", "8.5", "9.6", "12"]))
        method = "equal_installment" if i % 2 == 0 else "equal_principal"
        schedule = generate(
            principal=principal, annual_rate=rate, months=MONTHS, method=method, start=start
        )
        late = rng.random() < 0.05
        for inst in schedule.installments[:PAID]:
            day = min(inst.due_date + dt.timedelta(days=10 if late else 0), AS_OF)
            reps.append(
                [f"B{i:07d}", day.isoformat(), f"{inst.payment / 100:.2f}", f"R{i}-{inst.period}"]
            )
        control = schedule.installments[PAID - 1].balance
        loans.append(
            [
                f"B{i:07d}",
                ident,
                name,
                "企业" if enterprise else "个人",
                "",
                start.isoformat(),
                f"{principal / 100:.2f}",
                str(rate),
                MONTHS,
                "等额本息" if method == "equal_installment" else "等额本金",
                "",
                f"{control / 100:.2f}",
            ]
        )
    rng.shuffle(reps)
    sheet = wb.create_sheet("repayments")
    sheet.append(["贷款编号", "到账日期", "金额", "参考号"])
    for row in reps:
        sheet.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), len(reps)


def _floor(data: bytes, actor: Any) -> float:
    """Bulk insert of the same rows, no checks, no allocation, no catch-up (rolled back)."""
    from django.db import transaction

    from credo.core.money import Money
    from credo.customers.models import Customer
    from credo.lending import ledger
    from credo.lending.bookimport import read_book
    from credo.lending.bookimport.services import migration_version
    from credo.lending.models import Installment, JournalEntry, JournalLine, Loan, Posting
    from credo.lending.schedule import generate

    book = read_book(data, "bench.xlsx")  # parsing is not part of the floor
    t = time.perf_counter()
    with transaction.atomic():
        pv = migration_version()
        customer = Customer.objects.first()
        ids = ledger.account_ids(["loan_principal", "cash"])
        loans = Loan.objects.bulk_create(
            [
                Loan(
                    number=f"F{r.loan_number}",
                    customer=customer,
                    product_version=pv,
                    principal=Money.from_fen(r.principal),
                    annual_rate=r.annual_rate,
                    months=r.months,
                    method=r.method,
                    penalty_multiplier=Decimal("1.5"),
                    status="active",
                    start_date=r.disbursed_on,
                    outstanding_principal=Money.from_fen(r.principal),
                    owner=actor,
                    created_by=actor,
                )
                for r in book.loans
            ],
            batch_size=2000,
        )
        by_number = {loan.number[1:]: loan for loan in loans}
        insts = []
        for r in book.loans:
            s = generate(
                principal=r.principal,
                annual_rate=r.annual_rate,
                months=r.months,
                method=r.method,
                start=r.disbursed_on,
            )
            insts += [
                Installment(
                    loan=by_number[r.loan_number],
                    period=i.period,
                    due_date=i.due_date,
                    principal_due=i.principal,
                    interest_due=i.interest,
                )
                for i in s.installments
            ]
        Installment.objects.bulk_create(insts, batch_size=5000)
        entries = JournalEntry.objects.bulk_create(
            [
                JournalEntry(
                    kind="repayment", loan=by_number[p.loan_number], business_date=p.received_on
                )
                for p in book.repayments
            ],
            batch_size=5000,
        )
        JournalLine.objects.bulk_create(
            [
                line
                for e, p in zip(entries, book.repayments, strict=True)
                for line in (
                    JournalLine(entry=e, account_id=ids["cash"], loan_id=e.loan_id, debit=p.amount),
                    JournalLine(
                        entry=e,
                        account_id=ids["loan_principal"],
                        loan_id=e.loan_id,
                        credit=p.amount,
                    ),
                )
            ],
            batch_size=5000,
        )
        Posting.objects.bulk_create(
            [
                Posting(
                    loan_id=e.loan_id,
                    amount=Money.from_fen(p.amount),
                    received_on=p.received_on,
                    channel="manual",
                    entry=e,
                    actor=actor,
                )
                for e, p in zip(entries, book.repayments, strict=True)
            ],
            batch_size=5000,
        )
        elapsed = time.perf_counter() - t
        transaction.set_rollback(True)
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args(argv)
    db_url = os.environ.get("DATABASE_URL", "")
    if not db_url.startswith("postgres"):
        print("bench_book_import needs DATABASE_URL=postgres://… (PostgreSQL only)")
        return 2
    url, cleanup = _setup_env(db_url)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from credo.accounts.models import OrgUnit, User
        from credo.lending.bookimport import book_import
        from credo.lending.bookimport.services import check_file
        from credo.lending.models import Installment, JournalEntry, Loan, Posting

        print(f"database: {connection.vendor} ({url.split('@')[-1]})", flush=True)
        call_command("migrate", verbosity=0)
        hq = OrgUnit.objects.create(code="b-hq", name="总部", kind="head_office")
        actor = User.objects.create(
            username="book-admin", display_name="迁移", org_unit=hq, is_superuser=True
        )
        t = time.perf_counter()
        data, n_reps = generate_workbook(args.loans)
        print(
            f"  generated {args.loans:,} loans × {MONTHS} / {n_reps:,} repayment rows "
            f"({len(data) / 1e6:.1f} MB) in {time.perf_counter() - t:.1f} s",
            flush=True,
        )
        t = time.perf_counter()
        _book, _plan, errors, conflicts, _w = check_file(data, "bench.xlsx", AS_OF)
        check = time.perf_counter() - t
        assert not errors and not conflicts, (errors[:3], conflicts[:3])
        print(f"  read+check {check:.1f} s", flush=True)
        t = time.perf_counter()
        out = book_import(data=data, filename="bench.xlsx", actor=actor, as_of=AS_OF)
        total = time.perf_counter() - t
        assert out.status == "imported", (out.status, out.errors[:3])
        print(f"  import {total:.1f} s ({out.catch_up})", flush=True)
        t = time.perf_counter()
        again = book_import(data=data, filename="bench.xlsx", actor=actor, as_of=AS_OF)
        reimport = time.perf_counter() - t
        assert again.status == "unchanged", again.status
        floor = _floor(data, actor)
        recon = out.reconciliation
        rows = [
            ("read+check", check, ""),
            ("import incl. catch-up", total, f"{total / floor:.1f}× floor"),
            ("re-import (unchanged)", reimport, ""),
            ("floor (bulk insert, rolled back)", floor, ""),
        ]
        print()
        print(f"{'step':36} {'seconds':>9}  note")
        for name, secs, note in rows:
            print(f"{name:36} {secs:9.1f}  {note}")
        print()
        print(
            f"loans {Loan.objects.count():,}, installments {Installment.objects.count():,}, "
            f"postings {Posting.objects.count():,}, entries {JournalEntry.objects.count():,}; "
            f"overdue loans {recon['overdue_loans']}, outstanding {recon['outstanding_principal']}, "
            f"difference vs control {recon['difference']} "
            f"({recon['loans_with_difference']} loans)"
        )
        target = 600 * max(1.0, args.loans / 10_000)
        ok = total < target
        print(f"target: import < {target:.0f} s → {'OK' if ok else 'MISSED'} (busy machine)")
        return 0 if ok else 1
    finally:
        if not args.keep:
            cleanup()


if __name__ == "__main__":
    sys.exit(main())
