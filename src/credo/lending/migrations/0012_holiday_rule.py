# Placeholder in a fixed chain so parallel work never forks the migration graph; its owner
# fills in the operations by hand (see the issue 18 work split).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0011_schedule_conventions"),
    ]

    operations: list[migrations.operations.base.Operation] = []
