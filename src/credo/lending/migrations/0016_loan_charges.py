import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import credo.core.money


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0015_servicing_approvals"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="LoanCharge",
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
                        choices=[
                            ("handling", "手续费"),
                            ("breach", "违约金"),
                            ("other", "其他费用"),
                        ],
                        max_length=10,
                        verbose_name="费用类型",
                    ),
                ),
                ("amount", credo.core.money.MoneyField(verbose_name="金额")),
                ("charged_on", models.DateField(verbose_name="起息日")),
                ("memo", models.CharField(blank=True, max_length=200, verbose_name="说明")),
                (
                    "due_period",
                    models.PositiveSmallIntegerField(
                        blank=True, null=True, verbose_name="计入期次"
                    ),
                ),
                (
                    "idempotency_key",
                    models.CharField(blank=True, max_length=100, null=True, unique=True),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "reversed_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="冲销时间"),
                ),
                (
                    "reverse_reason",
                    models.CharField(blank=True, max_length=200, verbose_name="冲销原因"),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "loan",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="charges",
                        to="lending.loan",
                    ),
                ),
                (
                    "reversed_by",
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
                "verbose_name": "收费",
                "verbose_name_plural": "收费",
                "ordering": ["-id"],
                "permissions": [("charge_fee", "收取贷款费用")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("amount__gt", 0)), name="loancharge_positive"
                    )
                ],
            },
        ),
    ]
