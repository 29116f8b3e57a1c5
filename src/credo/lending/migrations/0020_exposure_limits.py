# 集中度管理 (issue 22 item 1): net assets per period and the versioned concentration limits.
from decimal import Decimal

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import credo.core.money

PCT = [
    django.core.validators.MinValueValidator(Decimal("0")),
    django.core.validators.MaxValueValidator(Decimal("100")),
]


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0019_loan_fillfactor"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ConcentrationLimits",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.PositiveIntegerField(unique=True, verbose_name="版本")),
                (
                    "single_pct",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("10"),
                        max_digits=5,
                        validators=PCT,
                        verbose_name="单一借款人上限（%）",
                    ),
                ),
                (
                    "group_pct",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("15"),
                        max_digits=5,
                        validators=PCT,
                        verbose_name="借款人及其关联方上限（%）",
                    ),
                ),
                (
                    "top10_pct",
                    models.DecimalField(
                        decimal_places=2,
                        default=Decimal("50"),
                        max_digits=6,
                        validators=[
                            django.core.validators.MinValueValidator(Decimal("0")),
                            django.core.validators.MaxValueValidator(Decimal("1000")),
                        ],
                        verbose_name="前十大借款人合计上限（%）",
                    ),
                ),
                (
                    "shareholder_min_pct",
                    models.DecimalField(
                        decimal_places=3,
                        default=Decimal("20"),
                        max_digits=6,
                        validators=PCT,
                        verbose_name="关联股东持股比例下限（%）",
                    ),
                ),
                ("note", models.CharField(blank=True, max_length=200, verbose_name="调整说明")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="调整人",
                    ),
                ),
            ],
            options={
                "verbose_name": "集中度限额",
                "verbose_name_plural": "集中度限额",
                "ordering": ["-version"],
            },
        ),
        migrations.CreateModel(
            name="NetAssets",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("effective_date", models.DateField(unique=True, verbose_name="生效日期")),
                ("amount", credo.core.money.MoneyField(verbose_name="净资产")),
                ("note", models.CharField(blank=True, max_length=200, verbose_name="说明")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "entered_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="录入人",
                    ),
                ),
            ],
            options={
                "verbose_name": "净资产",
                "verbose_name_plural": "净资产",
                "ordering": ["-effective_date"],
                "permissions": [
                    ("manage_exposure", "维护净资产与集中度限额"),
                    ("view_exposure", "查看集中度报表"),
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("amount__gt", 0)), name="netassets_positive"
                    )
                ],
            },
        ),
    ]
