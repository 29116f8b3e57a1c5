"""Demo applications (``credo seed_demo``): a few drafts with part of their documents uploaded,
so the checklist, the portal link and the correction notice can be tried at once."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

DEMO_PRODUCT = "demo-jyd"


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (30, 90, 160)).save(buf, format="PNG")
    return buf.getvalue()


def _product() -> Any:
    from credo.core.money import Money
    from credo.lending.models import Product, ProductVersion

    pv = (
        ProductVersion.objects.filter(status="published", product__is_active=True)
        .exclude(required_documents=[])
        .select_related("product")
        .first()
    )
    if pv is not None:
        return pv
    product, _created = Product.objects.get_or_create(
        code=DEMO_PRODUCT, defaults={"name": "经营贷（演示）"}
    )
    if product.published is not None:
        return product.published
    return ProductVersion.objects.create(  # type: ignore[misc]
        product=product,
        number=(product.versions.count() + 1),
        status="published",
        min_amount=Money("10000"),
        max_amount=Money("3000000"),
        min_months=3,
        max_months=36,
        min_rate=Decimal("6"),
        max_rate=Decimal("18"),
        method="equal_installment",
        allocation_order=["penalty", "fee", "interest", "principal"],
        required_documents=["营业执照", "法人身份证", "近一年财务报表"],
    )


def seed_demo_applications(ctx: Any) -> None:
    from credo.core.money import Money
    from credo.customers.models import Customer
    from credo.origination import services
    from credo.origination.models import Application

    if Application.objects.exists():
        ctx.out("  applications: already present, skipped")
        return
    customers = list(
        Customer.objects.filter(kind="enterprise", status="active")
        .select_related("owner")
        .order_by("id")[:3]
    )
    if not customers:
        ctx.out("  applications: no enterprise customers, skipped")
        return
    pv = _product()
    created = 0
    for i, customer in enumerate(customers):
        owner = customer.owner
        if not owner.has_perm("origination.add_application"):
            continue
        app = services.application_create(
            customer=customer,
            product_version=pv,
            amount=Money(max(pv.min_amount.yuan, Decimal(200_000 + 100_000 * i))),
            months=max(pv.min_months, 12),
            annual_rate=pv.min_rate,
            purpose=["采购原材料", "设备更新", "补充流动资金"][i % 3],
            actor=owner,
        )
        items = services.checklist_items(app)
        if items and i > 0:
            services.document_upload(
                application=app, item=items[0], name="demo.png", data=_png(), actor=owner
            )
        created += 1
    ctx.out(f"  applications: {created} draft applications created")


def register() -> None:
    from credo.core.demo import register_seeder

    register_seeder("origination", seed_demo_applications, order=60)
