"""The customer timeline: no single-column customer index (both timeline indexes lead with it)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_event_kind_write_off"),
    ]

    operations = [
        migrations.AlterField(
            model_name="customerevent",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="customers.customer",
            ),
        ),
    ]
