"""Blind index of the customer's bank account, so bank statements can be matched by 对方账号."""

from django.db import migrations

import credo.core.fields


def fill_index(apps, schema_editor):
    from credo.core.crypto import blind_index

    Customer = apps.get_model("customers", "Customer")
    batch = []
    for customer in Customer.objects.only("id", "bank_account").iterator(chunk_size=2000):
        if customer.bank_account:
            customer.bank_account_bidx = blind_index(customer.bank_account, kind="bank_account")
            batch.append(customer)
        if len(batch) >= 2000:
            Customer.objects.bulk_update(batch, ["bank_account_bidx"])
            batch = []
    if batch:
        Customer.objects.bulk_update(batch, ["bank_account_bidx"])


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="customer",
            name="bank_account_bidx",
            field=credo.core.fields.BlindIndexField(
                blank=True, default="", kind="bank_account", source="bank_account"
            ),
        ),
        migrations.RunPython(fill_index, migrations.RunPython.noop),
    ]
