"""Accounting periods (会计期间), the balances a close stores, voucher account-code maps
(issue 20)."""

import credo.core.money
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0017_pricing_caps"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AccountingPeriod",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("month", models.DateField(unique=True, verbose_name="会计期间")),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("open", "未结账"),
                            ("closed", "已结账"),
                            ("reopening", "反结账待审批"),
                        ],
                        default="open",
                        max_length=10,
                        verbose_name="状态",
                    ),
                ),
                ("closed_at", models.DateTimeField(blank=True, null=True, verbose_name="结账时间")),
                (
                    "reopen_requested_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="反结账申请时间"),
                ),
                (
                    "reopen_reason",
                    models.CharField(blank=True, max_length=300, verbose_name="反结账原因"),
                ),
                (
                    "reopen_approved_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="反结账审批时间"),
                ),
                (
                    "times_reopened",
                    models.PositiveIntegerField(default=0, verbose_name="反结账次数"),
                ),
                (
                    "closed_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="结账人",
                    ),
                ),
                (
                    "reopen_approved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="反结账审批人",
                    ),
                ),
                (
                    "reopen_requested_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="反结账申请人",
                    ),
                ),
            ],
            options={
                "verbose_name": "会计期间",
                "verbose_name_plural": "会计期间",
                "ordering": ["-month"],
                "permissions": [
                    ("view_books", "查看账簿（科目余额表、总账、明细账）"),
                    ("close_period", "会计期间结账 / 申请反结账"),
                    ("approve_reopen", "审批反结账"),
                    ("export_vouchers", "导出会计凭证"),
                ],
            },
        ),
        migrations.CreateModel(
            name="PeriodBalance",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("opening", models.BigIntegerField(default=0, verbose_name="期初余额")),
                ("debit", credo.core.money.MoneyField(default=0, verbose_name="本期借方")),
                ("credit", credo.core.money.MoneyField(default=0, verbose_name="本期贷方")),
                ("closing", models.BigIntegerField(default=0, verbose_name="期末余额")),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="lending.ledgeraccount",
                    ),
                ),
                (
                    "period",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="balances",
                        to="lending.accountingperiod",
                    ),
                ),
            ],
            options={
                "verbose_name": "期末科目余额",
                "verbose_name_plural": "期末科目余额",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("period", "account"), name="periodbalance_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="VoucherAccountMap",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("system", models.CharField(max_length=30, verbose_name="财务软件")),
                ("code", models.CharField(max_length=40, verbose_name="科目编码")),
                ("name", models.CharField(blank=True, max_length=60, verbose_name="科目名称")),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="voucher_maps",
                        to="lending.ledgeraccount",
                    ),
                ),
            ],
            options={
                "verbose_name": "凭证科目映射",
                "verbose_name_plural": "凭证科目映射",
                "constraints": [
                    models.UniqueConstraint(
                        fields=("system", "account"), name="voucheraccountmap_unique"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="LedgerDaySeal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("business_date", models.DateField(unique=True)),
                ("entries", models.BigIntegerField(default=0)),
                ("last_entry_id", models.BigIntegerField(default=0)),
            ],
        ),
        migrations.CreateModel(
            name="LedgerDayTotal",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("business_date", models.DateField()),
                ("debit", credo.core.money.MoneyField(default=0)),
                ("credit", credo.core.money.MoneyField(default=0)),
                (
                    "account",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="lending.ledgeraccount",
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("business_date", "account"), name="ledgerdaytotal_unique"
                    )
                ],
            },
        ),
    ]
