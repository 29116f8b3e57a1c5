"""Ships China's 2025 and 2026 holiday calendars (国办发明电〔2024〕12号, 〔2025〕7号).

Days already present (a lender's own edits) are kept; reversing removes only the shipped rows
that are unchanged."""

from django.db import migrations


def load(apps, schema_editor):
    from credo.core.holidays.data import default_days

    Holiday = apps.get_model("core", "Holiday")
    existing = set(Holiday.objects.values_list("date", flat=True))
    Holiday.objects.bulk_create(
        [
            Holiday(date=d.date, kind=d.kind, name=d.name, year=d.date.year, source=d.source)
            for d in default_days()
            if d.date not in existing
        ]
    )


def unload(apps, schema_editor):
    from credo.core.holidays.data import default_days

    Holiday = apps.get_model("core", "Holiday")
    for d in default_days():
        Holiday.objects.filter(
            date=d.date, kind=d.kind, name=d.name, source=d.source, updated_by=None
        ).delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0002_holiday")]

    operations = [migrations.RunPython(load, unload)]
