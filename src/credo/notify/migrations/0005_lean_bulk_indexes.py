"""Fewer indexes on the rows bulk sends and the close of business insert by the thousand: the
single-column recipient indexes (the composite inbox/cap indexes lead with the same column), the
LIKE (varchar_pattern_ops) twins nobody queries, and a claim-token index only over rows a sender
holds (issue 19: each index is one more insert per message)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0004_lean_bulk_indexes"),
        ("notify", "0004_issue23_imapps"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="message",
            name="claim_token",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.AlterField(
            model_name="message",
            name="customer",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notify_messages",
                to="customers.customer",
                verbose_name="接收人（客户）",
            ),
        ),
        migrations.AlterField(
            model_name="message",
            name="template_code",
            field=models.CharField(max_length=80, verbose_name="模板"),
        ),
        migrations.AlterField(
            model_name="message",
            name="user",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notify_messages",
                to=settings.AUTH_USER_MODEL,
                verbose_name="接收人（员工）",
            ),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(fields=["template_code"], name="notify_msg_template_idx"),
        ),
        migrations.AddIndex(
            model_name="message",
            index=models.Index(
                condition=models.Q(("claim_token", ""), _negated=True),
                fields=["claim_token"],
                name="notify_msg_claim_idx",
            ),
        ),
    ]
