# Value-dated servicing (倒起息重放): penalty conventions, classification floor and history,
# waivers, replays and the 倒起息调整 entry kind (issue 18 items 1, 2, 4, 11).
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import credo.core.money

CLASSES = [
    ("normal", "正常"),
    ("special_mention", "关注"),
    ("substandard", "次级"),
    ("doubtful", "可疑"),
    ("loss", "损失"),
]
PENALTY_FROM = [("due_date", "自还款日起算"), ("grace_end", "自宽限期届满起算")]


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0009_eodjob"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="productversion",
            name="compound_interest",
            field=models.BooleanField(
                default=True,
                help_text="按罚息利率对逾期利息计收复利（银发〔2003〕251号）",
                verbose_name="逾期利息计复利",
            ),
        ),
        migrations.AddField(
            model_name="productversion",
            name="penalty_from",
            field=models.CharField(
                choices=PENALTY_FROM,
                default="due_date",
                max_length=10,
                verbose_name="宽限期后罚息起算",
            ),
        ),
        migrations.AddField(
            model_name="loan",
            name="compound_interest",
            field=models.BooleanField(default=True, verbose_name="逾期利息计复利"),
        ),
        migrations.AddField(
            model_name="loan",
            name="penalty_from",
            field=models.CharField(
                choices=PENALTY_FROM,
                default="due_date",
                max_length=10,
                verbose_name="宽限期后罚息起算",
            ),
        ),
        migrations.AddField(
            model_name="loan",
            name="classification_floor",
            field=models.CharField(
                blank=True, choices=CLASSES, max_length=16, verbose_name="五级分类下限"
            ),
        ),
        migrations.AddField(
            model_name="loan",
            name="classification_floor_until",
            field=models.DateField(blank=True, null=True, verbose_name="分类下限有效至"),
        ),
        migrations.AddField(
            model_name="loan",
            name="cure_since",
            field=models.DateField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="installment",
            name="compound_due",
            field=credo.core.money.MoneyField(default=0, verbose_name="复利"),
        ),
        migrations.AddField(
            model_name="installment",
            name="waived",
            field=models.JSONField(blank=True, default=dict, verbose_name="已减免"),
        ),
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
                ],
                max_length=15,
            ),
        ),
        migrations.CreateModel(
            name="LoanWaiver",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("value_date", models.DateField(verbose_name="起息日")),
                ("amounts", models.JSONField(default=dict, verbose_name="减免金额")),
                ("reason", models.CharField(max_length=200, verbose_name="原因")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("reversed_at", models.DateTimeField(blank=True, null=True)),
                (
                    "actor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
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
                    "loan",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="waivers",
                        to="lending.loan",
                    ),
                ),
            ],
            options={"verbose_name": "减免", "verbose_name_plural": "减免", "ordering": ["-id"]},
        ),
        migrations.CreateModel(
            name="LoanReplay",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("from_date", models.DateField(verbose_name="起息日")),
                ("as_of", models.DateField(verbose_name="重算至")),
                ("reason", models.CharField(max_length=200, verbose_name="原因")),
                ("before", models.JSONField(default=dict)),
                ("after", models.JSONField(default=dict)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "actor",
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
                    models.OneToOneField(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="replay",
                        to="lending.journalentry",
                    ),
                ),
                (
                    "loan",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="replays",
                        to="lending.loan",
                    ),
                ),
                (
                    "trigger_posting",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="lending.posting",
                    ),
                ),
            ],
            options={
                "verbose_name": "倒起息重放",
                "verbose_name_plural": "倒起息重放",
                "ordering": ["-id"],
            },
        ),
        migrations.CreateModel(
            name="LoanClassHistory",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField(verbose_name="日期")),
                (
                    "from_class",
                    models.CharField(choices=CLASSES, max_length=16, verbose_name="原分类"),
                ),
                (
                    "to_class",
                    models.CharField(choices=CLASSES, max_length=16, verbose_name="新分类"),
                ),
                ("dpd", models.PositiveIntegerField(default=0, verbose_name="逾期天数")),
                (
                    "reason",
                    models.CharField(
                        choices=[
                            ("auto", "日终自动"),
                            ("manual", "人工认定"),
                            ("restructure", "重组"),
                            ("replay", "倒起息重算"),
                        ],
                        default="auto",
                        max_length=12,
                        verbose_name="原因",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                (
                    "loan",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="class_history",
                        to="lending.loan",
                    ),
                ),
            ],
            options={
                "verbose_name": "五级分类历史",
                "verbose_name_plural": "五级分类历史",
                "ordering": ["loan", "date", "id"],
                "indexes": [models.Index(fields=["loan", "date"], name="loanclasshistory_idx")],
            },
        ),
    ]
