import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_business_sequence"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Holiday",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField(unique=True, verbose_name="日期")),
                (
                    "kind",
                    models.CharField(
                        choices=[("holiday", "放假"), ("workday", "调休上班")],
                        max_length=10,
                        verbose_name="类型",
                    ),
                ),
                (
                    "name",
                    models.CharField(blank=True, default="", max_length=40, verbose_name="名称"),
                ),
                ("year", models.PositiveSmallIntegerField(db_index=True, verbose_name="年度")),
                (
                    "source",
                    models.CharField(blank=True, default="", max_length=120, verbose_name="来源"),
                ),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "节假日",
                "verbose_name_plural": "节假日",
                "ordering": ["date"],
                "permissions": [("manage_holidays", "管理节假日")],
            },
        ),
    ]
