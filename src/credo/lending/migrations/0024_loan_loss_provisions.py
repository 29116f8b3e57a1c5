"""贷款损失准备: provision rates (versioned), monthly runs, their lines and postings (issue 20)."""

from decimal import Decimal

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import credo.core.money


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0023_interest_accruals"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ProvisionRates",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("version", models.PositiveIntegerField(unique=True, verbose_name="版本")),
                (
                    "general_pct",
                    models.DecimalField(
                        decimal_places=3,
                        default=Decimal("1"),
                        max_digits=6,
                        verbose_name="一般准备（% 贷款余额）",
                    ),
                ),
                (
                    "normal_pct",
                    models.DecimalField(
                        decimal_places=3,
                        default=Decimal("0"),
                        max_digits=6,
                        verbose_name="正常类专项准备（%）",
                    ),
                ),
                (
                    "special_mention_pct",
                    models.DecimalField(
                        decimal_places=3,
                        default=Decimal("2"),
                        max_digits=6,
                        verbose_name="关注类专项准备（%）",
                    ),
                ),
                (
                    "substandard_pct",
                    models.DecimalField(
                        decimal_places=3,
                        default=Decimal("25"),
                        max_digits=6,
                        verbose_name="次级类专项准备（%）",
                    ),
                ),
                (
                    "doubtful_pct",
                    models.DecimalField(
                        decimal_places=3,
                        default=Decimal("50"),
                        max_digits=6,
                        verbose_name="可疑类专项准备（%）",
                    ),
                ),
                (
                    "loss_pct",
                    models.DecimalField(
                        decimal_places=3,
                        default=Decimal("100"),
                        max_digits=6,
                        verbose_name="损失类专项准备（%）",
                    ),
                ),
                ("note", models.CharField(blank=True, max_length=200, verbose_name="调整说明")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="调整人",
                    ),
                ),
            ],
            options={
                "verbose_name": "贷款损失准备计提比例",
                "verbose_name_plural": "贷款损失准备计提比例",
                "ordering": ["-version"],
                "permissions": [("manage_provisions", "维护贷款损失准备计提比例、执行月度计提")],
            },
        ),
        migrations.CreateModel(
            name="ProvisionRun",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField(verbose_name="会计期间")),
                ("sequence", models.PositiveIntegerField(default=1, verbose_name="次序")),
                ("month_end", models.DateField(verbose_name="计提日期")),
                ("rates_used", models.JSONField(default=dict, verbose_name="计提比例")),
                ("loans", models.PositiveIntegerField(default=0, verbose_name="贷款笔数")),
                ("balance", credo.core.money.MoneyField(default=0, verbose_name="贷款余额")),
                ("required", credo.core.money.MoneyField(default=0, verbose_name="应计提准备")),
                ("previous", models.BigIntegerField(default=0, verbose_name="计提前准备余额")),
                (
                    "posted",
                    models.BigIntegerField(default=0, verbose_name="本次计提（负数为转回）"),
                ),
                ("last_entry_id", models.BigIntegerField(default=0)),
                ("duration_ms", models.PositiveIntegerField(default=0)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="执行人",
                    ),
                ),
                (
                    "rates",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="runs",
                        to="lending.provisionrates",
                        verbose_name="计提比例版本",
                    ),
                ),
            ],
            options={
                "verbose_name": "贷款损失准备计提",
                "verbose_name_plural": "贷款损失准备计提",
                "ordering": ["-month", "-sequence"],
            },
        ),
        migrations.CreateModel(
            name="ProvisionPosting",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("previous", models.BigIntegerField(default=0, verbose_name="计提前准备余额")),
                ("required", credo.core.money.MoneyField(default=0, verbose_name="应计提准备")),
                (
                    "amount",
                    models.BigIntegerField(default=0, verbose_name="本次计提（负数为转回）"),
                ),
                (
                    "entry",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="provision_posting",
                        to="lending.journalentry",
                    ),
                ),
                (
                    "product",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="lending.product",
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="postings",
                        to="lending.provisionrun",
                    ),
                ),
            ],
        ),
        migrations.CreateModel(
            name="ProvisionLine",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("classification", models.CharField(max_length=16, verbose_name="五级分类")),
                ("loans", models.PositiveIntegerField(default=0, verbose_name="贷款笔数")),
                ("balance", credo.core.money.MoneyField(default=0, verbose_name="贷款余额")),
                ("general_pct", models.DecimalField(decimal_places=3, max_digits=6)),
                ("specific_pct", models.DecimalField(decimal_places=3, max_digits=6)),
                ("general", credo.core.money.MoneyField(default=0, verbose_name="一般准备")),
                ("specific", credo.core.money.MoneyField(default=0, verbose_name="专项准备")),
                ("required", credo.core.money.MoneyField(default=0, verbose_name="应计提准备")),
                (
                    "product",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="lending.product",
                    ),
                ),
                (
                    "run",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lines",
                        to="lending.provisionrun",
                    ),
                ),
            ],
        ),
        migrations.AddConstraint(
            model_name="provisionrun",
            constraint=models.UniqueConstraint(
                fields=("month", "sequence"), name="provisionrun_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="provisionposting",
            constraint=models.UniqueConstraint(
                fields=("run", "product"), name="provisionposting_unique"
            ),
        ),
        migrations.AddConstraint(
            model_name="provisionline",
            constraint=models.UniqueConstraint(
                fields=("run", "product", "classification"), name="provisionline_unique"
            ),
        ),
    ]
