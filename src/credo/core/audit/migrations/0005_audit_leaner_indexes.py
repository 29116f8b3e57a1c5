"""Fewer indexes on the audit table (issue 19 item 3: cost of an audited write).

Every index is paid twice per audit row: at the business transaction's insert and again at the
sealer's update (which changes indexed columns, so it is never a HOT update). Dropped: the
unique index on ``hash`` and its ``varchar_pattern_ops`` twin (nothing looks a row up by its
hash; verify walks by ``seq`` and checks every link), the pattern twins of ``object_type`` and
``object_id`` (looked up by equality only) and the unused ``actor_id`` index. 13 → 8 indexes.

SQLite rebuilds the table for ``AlterField``, which drops its triggers: the append-only guard is
lifted before and installed again after, as in 0004.
"""

from django.db import migrations, models

from credo.core.audit.db import install_guard, remove_guard


def lift_guard(apps, schema_editor):
    remove_guard(schema_editor.connection)


def sealing_guard(apps, schema_editor):
    install_guard(schema_editor.connection, sealing=True)


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0004_sealer'),
    ]

    operations = [
        migrations.RunPython(lift_guard, sealing_guard),
        migrations.AlterField(
            model_name='auditentry',
            name='actor_id',
            field=models.BigIntegerField(blank=True, null=True, verbose_name='操作人ID'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='hash',
            field=models.CharField(blank=True, max_length=64, null=True, verbose_name='哈希'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='object_id',
            field=models.CharField(blank=True, max_length=64, verbose_name='对象ID'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='object_type',
            field=models.CharField(blank=True, max_length=80, verbose_name='对象类型'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['object_type'], name='audit_object_type_idx'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(fields=['object_id'], name='audit_object_id_idx'),
        ),
        migrations.RunPython(sealing_guard, lift_guard),
    ]
