"""Data migration: the JSON list ``Application.guarantees`` becomes records.

* ``{"type": "collateral", "name", "value"}`` → one Collateral (抵押, category 其他, owner = the
  applicant, 待登记) linked to the application (and its loan, if any); a value becomes one
  valuation dated the application's creation day, method 客户申报, appraiser "申请时申报".
* ``{"type": "guarantor", "name"}`` → a Guarantee (一般保证 — 《民法典》第686条: an
  unspecified guarantee is a general one; amount = the application's amount; no period; 待生效)
  only when exactly one customer carries that name; otherwise it is NOT mapped (no customer to
  be the guarantor) and is counted in the output.

The JSON stays on the application untouched (the application page keeps showing it), so
nothing is lost; a second run adds nothing (keyed by the generated numbers).
"""

from __future__ import annotations

import sys

from django.db import migrations

UNMAPPED: list[str] = []


def forward(apps, schema_editor):  # noqa: ANN001
    Application = apps.get_model("origination", "Application")
    Customer = apps.get_model("customers", "Customer")
    Collateral = apps.get_model("collateral", "Collateral")
    Valuation = apps.get_model("collateral", "CollateralValuation")
    Link = apps.get_model("collateral", "CollateralLink")
    Guarantee = apps.get_model("collateral", "Guarantee")
    UNMAPPED.clear()
    created = {"collateral": 0, "guarantees": 0}
    for app in Application.objects.exclude(guarantees=[]).order_by("id").iterator():
        rows = app.guarantees if isinstance(app.guarantees, list) else []
        for i, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                UNMAPPED.append(f"{app.number}#{i}: not an object")
                continue
            kind = row.get("type")
            name = str(row.get("name") or row.get("description") or "").strip()
            if not name:
                UNMAPPED.append(f"{app.number}#{i}: empty name")
                continue
            if kind == "collateral":
                number = f"M{app.number}-{i}"[:24]
                if Collateral.objects.filter(number=number).exists():
                    continue
                c = Collateral.objects.create(
                    number=number,
                    kind="mortgage",
                    category="other",
                    owner_id=app.customer_id,
                    description=name[:300],
                    status="draft",
                    note=f"由贷款申请 {app.number} 的担保信息迁移"[:300],
                    created_by_id=app.created_by_id,
                )
                Link.objects.create(collateral=c, application_id=app.pk, loan_id=app.loan_id)
                value = row.get("value")
                if isinstance(value, int) and value >= 0:
                    day = app.created_at.date()
                    Valuation.objects.create(
                        collateral=c,
                        valued_on=day,
                        value=value,
                        appraiser="申请时申报",
                        method="declared",
                        note="迁移自申请",
                    )
                    c.current_value = value
                    c.valued_on = day
                    c.save(update_fields=["current_value", "valued_on"])
                created["collateral"] += 1
            elif kind == "guarantor":
                number = f"M{app.number}-G{i}"
                if Guarantee.objects.filter(contract_number=number).exists():
                    continue
                matches = list(Customer.objects.filter(name=name).values_list("pk", flat=True)[:2])
                if len(matches) != 1:
                    UNMAPPED.append(
                        f"{app.number}#{i}: guarantor {name!r} matches {len(matches)} customers"
                    )
                    continue
                Guarantee.objects.create(
                    contract_number=number,
                    guarantor_id=matches[0],
                    kind="general",
                    amount=app.approved_amount or app.amount,
                    application_id=app.pk,
                    loan_id=app.loan_id,
                    status="draft",
                    note=f"由贷款申请 {app.number} 的保证人信息迁移，请补录合同编号与保证期间"[:300],
                    created_by_id=app.created_by_id,
                )
                created["guarantees"] += 1
            else:
                UNMAPPED.append(f"{app.number}#{i}: unknown type {kind!r}")
    if created["collateral"] or created["guarantees"] or UNMAPPED:
        sys.stdout.write(
            f"\n  collateral: {created['collateral']} collateral, {created['guarantees']} "
            f"guarantees migrated from application JSON; {len(UNMAPPED)} not mapped\n"
        )
        for line in UNMAPPED[:50]:
            sys.stdout.write(f"    not mapped: {line}\n")


class Migration(migrations.Migration):
    dependencies = [
        ("collateral", "0001_initial"),
        ("origination", "0003_grade_sources"),
        ("customers", "0003_event_kind_write_off"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
