"""Contract numbers now come from the shared locked counter (core.BusinessSequence, name
"contract", period yyyymmdd): copy each day's counter over, then drop ContractSequence."""

from django.db import migrations


def copy_counters(apps, schema_editor):
    ContractSequence = apps.get_model("contracts", "ContractSequence")
    BusinessSequence = apps.get_model("core", "BusinessSequence")
    for seq in ContractSequence.objects.all():
        period = f"{seq.day:%Y%m%d}"
        row, created = BusinessSequence.objects.get_or_create(
            name="contract", period=period, defaults={"last": seq.last}
        )
        if not created and row.last < seq.last:
            row.last = seq.last
            row.save(update_fields=["last"])


class Migration(migrations.Migration):
    dependencies = [
        ("contracts", "0001_initial"),
        ("core", "0001_business_sequence"),
    ]

    operations = [
        migrations.RunPython(copy_counters, migrations.RunPython.noop),
        migrations.DeleteModel(name="ContractSequence"),
    ]
