# Servicing approvals (issue 18): 罚息减免 and 人工分类调整 requests (maker-checker).
# Filled in by hand in the fixed chain (servicing helper).

import credo.core.money
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("lending", "0014_restructure_recovery"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ClassificationRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("requested", "待审批"),
                            ("approved", "已批准"),
                            ("rejected", "已拒绝"),
                            ("cancelled", "已撤回"),
                        ],
                        db_index=True,
                        default="requested",
                        max_length=10,
                        verbose_name="状态",
                    ),
                ),
                ("from_class", models.CharField(max_length=16, verbose_name="原分类")),
                ("to_class", models.CharField(max_length=16, verbose_name="调整为")),
                ("until", models.DateField(blank=True, null=True, verbose_name="有效期至")),
                ("dpd", models.PositiveIntegerField(default=0, verbose_name="申请时逾期天数")),
                ("reason", models.TextField(verbose_name="调整原因")),
                ("requested_at", models.DateTimeField(auto_now_add=True, verbose_name="申请时间")),
                (
                    "decided_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="审批时间"),
                ),
                (
                    "decision_note",
                    models.CharField(blank=True, max_length=200, verbose_name="审批意见"),
                ),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="审批人",
                    ),
                ),
                (
                    "loan",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="lending.loan",
                        verbose_name="贷款",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="申请人",
                    ),
                ),
            ],
            options={
                "verbose_name": "人工分类调整申请",
                "verbose_name_plural": "人工分类调整申请",
                "ordering": ["-id"],
                "permissions": [
                    ("request_classification", "申请人工分类调整"),
                    ("approve_classification", "审批人工分类调整"),
                ],
                "indexes": [models.Index(fields=["loan", "status"], name="classrequest_loan_idx")],
            },
        ),
        migrations.CreateModel(
            name="WaiverRequest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("requested", "待审批"),
                            ("approved", "已批准"),
                            ("rejected", "已拒绝"),
                            ("cancelled", "已撤回"),
                        ],
                        db_index=True,
                        default="requested",
                        max_length=10,
                        verbose_name="状态",
                    ),
                ),
                ("value_date", models.DateField(verbose_name="减免生效日")),
                ("amounts", models.JSONField(default=dict, verbose_name="减免金额")),
                ("total", credo.core.money.MoneyField(verbose_name="减免合计")),
                ("owed", models.JSONField(blank=True, default=dict, verbose_name="申请时应还")),
                ("reason", models.TextField(verbose_name="减免原因")),
                (
                    "attachment",
                    models.FileField(
                        blank=True,
                        max_length=200,
                        upload_to="servicing/waivers/%Y/%m/",
                        verbose_name="附件",
                    ),
                ),
                ("requested_at", models.DateTimeField(auto_now_add=True, verbose_name="申请时间")),
                (
                    "decided_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="审批时间"),
                ),
                (
                    "decision_note",
                    models.CharField(blank=True, max_length=200, verbose_name="审批意见"),
                ),
                ("waiver_ref", models.BigIntegerField(blank=True, null=True)),
                (
                    "decided_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="审批人",
                    ),
                ),
                (
                    "loan",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to="lending.loan",
                        verbose_name="贷款",
                    ),
                ),
                (
                    "requested_by",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="申请人",
                    ),
                ),
            ],
            options={
                "verbose_name": "罚息减免申请",
                "verbose_name_plural": "罚息减免申请",
                "ordering": ["-id"],
                "permissions": [
                    ("request_waiver", "申请罚息减免"),
                    ("approve_waiver", "审批罚息减免"),
                ],
                "indexes": [models.Index(fields=["loan", "status"], name="waiverrequest_loan_idx")],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("total__gt", 0)), name="waiverrequest_positive"
                    )
                ],
            },
        ),
    ]
