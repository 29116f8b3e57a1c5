from django.db import migrations

from credo.core.audit.db import install_guard, remove_guard


def forwards(apps, schema_editor):
    install_guard(schema_editor.connection, sealing=False)  # no sealer yet: no UPDATE at all


def backwards(apps, schema_editor):
    remove_guard(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
