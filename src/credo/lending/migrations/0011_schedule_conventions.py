# Issue 18 item 10 (schedule conventions): the quarterly methods, LPR-linked floating rates
# (terms on product versions and loans, the LPR table with its shipped history, the record of
# each loan's rate changes). Written by hand in the fixed 0010…0015 chain.
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

METHOD_CHOICES = [
    ("equal_installment", "等额本息"),
    ("equal_principal", "等额本金"),
    ("interest_only", "按月付息到期还本（先息后本）"),
    ("bullet", "到期一次还本付息"),
    ("interest_quarterly", "按季付息到期还本"),
    ("equal_installment_quarterly", "按季等额本息"),
]


def seed_lpr(apps, schema_editor):
    # The shipped history (a frozen data constant, credo.lending.rates.history).
    from credo.lending.rates.history import seed

    seed(apps.get_model("lending", "LprRate"))


def _rate_terms(model_name):
    return [
        migrations.AddField(
            model_name=model_name,
            name="rate_type",
            field=models.CharField(
                choices=[("fixed", "固定利率"), ("lpr", "LPR 浮动利率")],
                default="fixed",
                max_length=8,
                verbose_name="利率类型",
            ),
        ),
        migrations.AddField(
            model_name=model_name,
            name="lpr_tenor",
            field=models.CharField(
                choices=[("1y", "1 年期 LPR"), ("5y", "5 年期以上 LPR")],
                default="1y",
                max_length=4,
                verbose_name="LPR 期限",
            ),
        ),
        migrations.AddField(
            model_name=model_name,
            name="spread_bp",
            field=models.IntegerField(
                default=0, help_text="可为负数；100 基点 = 1%", verbose_name="加点（基点）"
            ),
        ),
        migrations.AddField(
            model_name=model_name,
            name="repricing",
            field=models.CharField(
                choices=[
                    ("annual_jan1", "每年1月1日"),
                    ("anniversary", "放款对应日（每年）"),
                    ("monthly", "每月放款对应日"),
                ],
                default="annual_jan1",
                max_length=12,
                verbose_name="重定价日",
            ),
        ),
        migrations.AlterField(
            model_name=model_name,
            name="method",
            field=models.CharField(choices=METHOD_CHOICES, max_length=32, verbose_name="还款方式"),
        ),
    ]


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0010_value_dating"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        *_rate_terms("productversion"),
        *_rate_terms("loan"),
        migrations.CreateModel(
            name="LprRate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "effective_date",
                    models.DateField(unique=True, verbose_name="生效日（发布日）"),
                ),
                (
                    "one_year",
                    models.DecimalField(
                        decimal_places=4, max_digits=6, verbose_name="1 年期 LPR（%）"
                    ),
                ),
                (
                    "five_year",
                    models.DecimalField(
                        decimal_places=4, max_digits=6, verbose_name="5 年期以上 LPR（%）"
                    ),
                ),
                ("source", models.CharField(blank=True, max_length=200, verbose_name="来源说明")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "贷款市场报价利率",
                "verbose_name_plural": "贷款市场报价利率",
                "ordering": ["-effective_date"],
                "permissions": [("manage_rates", "管理贷款市场报价利率")],
            },
        ),
        migrations.CreateModel(
            name="LoanRateChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "kind",
                    models.CharField(
                        choices=[("initial", "放款定价"), ("repricing", "重定价")],
                        max_length=10,
                        verbose_name="类型",
                    ),
                ),
                ("effective_date", models.DateField(verbose_name="生效日")),
                (
                    "old_rate",
                    models.DecimalField(
                        blank=True,
                        decimal_places=4,
                        max_digits=7,
                        null=True,
                        verbose_name="原年利率（%）",
                    ),
                ),
                (
                    "new_rate",
                    models.DecimalField(
                        decimal_places=4, max_digits=7, verbose_name="新年利率（%）"
                    ),
                ),
                ("lpr_tenor", models.CharField(max_length=4, verbose_name="LPR 期限")),
                (
                    "lpr_value",
                    models.DecimalField(
                        decimal_places=4, max_digits=6, verbose_name="所用 LPR（%）"
                    ),
                ),
                ("spread_bp", models.IntegerField(verbose_name="加点（基点）")),
                (
                    "from_period",
                    models.PositiveIntegerField(blank=True, null=True, verbose_name="起始期次"),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "loan",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="rate_changes",
                        to="lending.loan",
                    ),
                ),
                (
                    "lpr",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="lending.lprrate",
                    ),
                ),
            ],
            options={
                "verbose_name": "贷款利率变动",
                "verbose_name_plural": "贷款利率变动",
                "ordering": ["loan", "effective_date", "id"],
            },
        ),
        migrations.AddConstraint(
            model_name="lprrate",
            constraint=models.CheckConstraint(
                condition=models.Q(("five_year__gt", 0), ("one_year__gt", 0)),
                name="lprrate_positive",
            ),
        ),
        migrations.AddConstraint(
            model_name="loanratechange",
            constraint=models.UniqueConstraint(
                fields=("loan", "kind", "effective_date"), name="loanratechange_once_per_date"
            ),
        ),
        migrations.RunPython(seed_lpr, migrations.RunPython.noop),
    ]
