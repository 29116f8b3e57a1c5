"""Audit rows are sealed by the sealer instead of at insert (issue 19 item 3).

seq / prev_hash / hash become NULL-able (an unsealed row has none yet), a keyed content hash is
written with every new row, and the append-only trigger now lets the sealer write the three
chain fields once. Every existing row was sealed at insert and stays valid as it is.
"""

from django.db import migrations, models

from credo.core.audit.db import install_guard, remove_guard


def lift_guard(apps, schema_editor):
    remove_guard(schema_editor.connection)


def strict_guard(apps, schema_editor):
    remove_guard(schema_editor.connection)
    install_guard(schema_editor.connection, sealing=False)


def sealing_guard(apps, schema_editor):
    install_guard(schema_editor.connection, sealing=True)


def head_at_tail(apps, schema_editor):
    """The sealer continues from the head: make sure it exists and names the chain tail."""
    AuditEntry = apps.get_model("audit", "AuditEntry")
    AuditChainHead = apps.get_model("audit", "AuditChainHead")
    if AuditChainHead.objects.filter(pk=1).exists():
        return
    tail = AuditEntry.objects.order_by("-seq").values_list("seq", "hash").first()
    if tail is not None:
        AuditChainHead.objects.create(pk=1, seq=tail[0], hash=tail[1])


class Migration(migrations.Migration):

    dependencies = [
        ('audit', '0003_checkpoint'),
    ]

    operations = [
        migrations.RunPython(lift_guard, strict_guard),
        migrations.AlterModelOptions(
            name='auditentry',
            options={'ordering': ['-id'], 'permissions': [('view_audit_log', '查看审计日志')], 'verbose_name': '审计记录', 'verbose_name_plural': '审计记录'},
        ),
        migrations.AddField(
            model_name='auditentry',
            name='content_hash',
            field=models.CharField(blank=True, default='', max_length=64, verbose_name='内容哈希'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='hash',
            field=models.CharField(blank=True, max_length=64, null=True, unique=True, verbose_name='哈希'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='prev_hash',
            field=models.CharField(blank=True, max_length=64, null=True, verbose_name='前一条哈希'),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='seq',
            field=models.BigIntegerField(blank=True, null=True, unique=True, verbose_name='序号'),
        ),
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(condition=models.Q(('seq__isnull', True)), fields=['id'], name='audit_unsealed_idx'),
        ),
        migrations.RunPython(head_at_tail, migrations.RunPython.noop),
        migrations.RunPython(sealing_guard, lift_guard),
    ]
