# Placeholder in a fixed chain so parallel work never forks the migration graph; its owner
# fills in the operations by hand (see the issue 18 work split).
# 0013: book migration (存量贷款迁移) — BookImport and BookImportLoan, permission import_book.
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0012_holiday_rule"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations: list[migrations.operations.base.Operation] = [
        migrations.CreateModel(
            name="BookImport",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("file_name", models.CharField(max_length=200, verbose_name="文件名")),
                (
                    "sha256",
                    models.CharField(db_index=True, max_length=64, verbose_name="文件摘要"),
                ),
                ("as_of", models.DateField(verbose_name="追溯至")),
                (
                    "status",
                    models.CharField(
                        choices=[("imported", "已导入")],
                        default="imported",
                        max_length=10,
                        verbose_name="状态",
                    ),
                ),
                ("counts", models.JSONField(blank=True, default=dict)),
                ("reconciliation", models.JSONField(blank=True, default=dict)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "actor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "存量贷款导入",
                "verbose_name_plural": "存量贷款导入",
                "ordering": ["-id"],
                "permissions": [("import_book", "导入存量贷款")],
            },
        ),
        migrations.CreateModel(
            name="BookImportLoan",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("fingerprint", models.CharField(max_length=64)),
                ("row", models.JSONField(default=dict)),
                (
                    "book_import",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="loans",
                        to="lending.bookimport",
                    ),
                ),
                (
                    "loan",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="book_import_row",
                        to="lending.loan",
                    ),
                ),
            ],
            options={
                "verbose_name": "存量导入贷款",
                "verbose_name_plural": "存量导入贷款",
            },
        ),
    ]
