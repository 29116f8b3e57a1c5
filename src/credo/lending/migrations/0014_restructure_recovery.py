# 展期 / 重组 / 借新还旧 (Restructuring) and 已核销贷款收回 (OffBalance, Recovery); new journal
# kinds. Written by hand in the fixed chain (issue 18): the AlterField of JournalEntry.kind carries
# the full final list of kinds (other parts of the issue add theirs, e.g. "adjustment").
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import credo.core.money


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0013_book_import"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name="journalentry",
            name="kind",
            field=models.CharField(
                choices=[
                    ("disbursement", "放款"),
                    ("repayment", "还款"),
                    ("penalty", "罚息计提"),
                    ("write_off", "核销"),
                    ("reversal", "冲正"),
                    ("fee", "手续费"),
                    ("adjustment", "倒起息调整"),
                    ("recovery", "核销收回"),
                    ("restructure", "重组"),
                ],
                max_length=15,
            ),
        ),
        migrations.CreateModel(
            name="OffBalance",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("written_off_on", models.DateField(verbose_name="核销日期")),
                ("principal", credo.core.money.MoneyField(default=0, verbose_name="表外本金")),
                ("interest", credo.core.money.MoneyField(default=0, verbose_name="表外利息")),
                ("fee", credo.core.money.MoneyField(default=0, verbose_name="表外费用")),
                ("penalty", credo.core.money.MoneyField(default=0, verbose_name="表外罚息")),
                (
                    "recovered_principal",
                    credo.core.money.MoneyField(default=0, verbose_name="已收回本金"),
                ),
                (
                    "recovered_interest",
                    credo.core.money.MoneyField(default=0, verbose_name="已收回利息"),
                ),
                (
                    "recovered_fee",
                    credo.core.money.MoneyField(default=0, verbose_name="已收回费用"),
                ),
                (
                    "recovered_penalty",
                    credo.core.money.MoneyField(default=0, verbose_name="已收回罚息"),
                ),
                (
                    "entry",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="lending.journalentry",
                    ),
                ),
                (
                    "loan",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="off_balance",
                        to="lending.loan",
                    ),
                ),
            ],
            options={
                "verbose_name": "核销表外登记",
                "verbose_name_plural": "核销表外登记",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("recovered_principal__lte", models.F("principal")),
                            ("recovered_interest__lte", models.F("interest")),
                            ("recovered_fee__lte", models.F("fee")),
                            ("recovered_penalty__lte", models.F("penalty")),
                        ),
                        name="offbalance_not_over_recovered",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Recovery",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("amount", credo.core.money.MoneyField(verbose_name="收回金额")),
                ("received_on", models.DateField(verbose_name="到账日期")),
                (
                    "reference",
                    models.CharField(blank=True, max_length=80, verbose_name="流水号/备注"),
                ),
                (
                    "idempotency_key",
                    models.CharField(blank=True, max_length=100, null=True, unique=True),
                ),
                ("allocation", models.JSONField(default=dict, verbose_name="冲减表外明细")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "actor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "entry",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="recovery",
                        to="lending.journalentry",
                    ),
                ),
                (
                    "loan",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="recoveries",
                        to="lending.loan",
                    ),
                ),
            ],
            options={
                "verbose_name": "核销收回",
                "verbose_name_plural": "核销收回",
                "ordering": ["-id"],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("amount__gt", 0)), name="recovery_positive"
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Restructuring",
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
                            ("extension", "展期"),
                            ("restructure", "重组"),
                            ("refinance", "借新还旧"),
                        ],
                        max_length=12,
                        verbose_name="类型",
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("requested", "待审批"),
                            ("approved", "已审批"),
                            ("executed", "已执行"),
                            ("rejected", "已拒绝"),
                            ("cancelled", "已撤销"),
                        ],
                        default="requested",
                        max_length=10,
                        verbose_name="状态",
                    ),
                ),
                ("reason", models.TextField(verbose_name="原因")),
                ("old_terms", models.JSONField(default=dict, verbose_name="原条款")),
                ("new_terms", models.JSONField(default=dict, verbose_name="新条款")),
                ("quote", models.JSONField(blank=True, default=dict, verbose_name="试算")),
                (
                    "classification_before",
                    models.CharField(blank=True, max_length=16, verbose_name="重组前五级分类"),
                ),
                ("requested_at", models.DateTimeField(auto_now_add=True)),
                ("approved_at", models.DateTimeField(blank=True, null=True)),
                ("executed_at", models.DateTimeField(blank=True, null=True)),
                ("executed_on", models.DateField(blank=True, null=True, verbose_name="执行日期")),
                (
                    "decision_note",
                    models.CharField(blank=True, max_length=300, verbose_name="审批意见"),
                ),
                (
                    "approved_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
                (
                    "entry",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="lending.journalentry",
                    ),
                ),
                (
                    "loan",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="restructurings",
                        to="lending.loan",
                        verbose_name="贷款",
                    ),
                ),
                (
                    "new_loan",
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="refinanced_from",
                        to="lending.loan",
                        verbose_name="新贷款",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "贷款重组",
                "verbose_name_plural": "贷款重组",
                "ordering": ["-id"],
                "permissions": [
                    ("request_restructure", "申请展期/重组/借新还旧"),
                    ("approve_restructure", "审批展期/重组/借新还旧"),
                ],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("status__in", ["requested", "approved"])),
                        fields=("loan",),
                        name="restructuring_one_open",
                    )
                ],
            },
        ),
    ]
