"""Approval flows (审批流) as data: flows with versioned definitions, running instances pinned to
a version, one task per approver, and an append-only action trail.

The subject being approved (an application, a limit request, ...) is referenced generically by
``subject_type`` ("app_label.model_name") and ``subject_id`` so this app depends on no other
business app.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credo.core import versioning

# Flow definition flag (per version, default false): may one person approve more than one step
# of the same instance, or more than one 会签 slot of a step? See selectors.approval_conflicts.
SAME_APPROVER_FLAG = "allow_same_approver_across_steps"


class ApprovalFlow(models.Model):
    key = models.CharField(_("标识"), max_length=80, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    description = models.TextField(_("说明"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("审批流")
        verbose_name_plural = _("审批流")
        ordering = ["key"]
        permissions = [("manage_flows", _("配置审批流"))]

    def __str__(self) -> str:
        return f"{self.name} ({self.key})"

    @property
    def published(self) -> FlowVersion | None:
        return self.versions.filter(status=FlowVersion.Status.PUBLISHED).first()


class FlowVersion(versioning.VersionRecord):
    flow = models.ForeignKey(ApprovalFlow, on_delete=models.CASCADE, related_name="versions")
    # {"allow_same_approver_across_steps": false,
    #  "routes": {"<code>": {"name", "steps": [{"name", "mode", "approvers", "deadline_hours",
    #  "escalate_to", "max_amount", "branch_scoped"}]}}}
    definition = models.JSONField(_("定义"), default=dict)

    class Meta:
        verbose_name = _("审批流版本")
        verbose_name_plural = _("审批流版本")
        ordering = ["flow", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "number"], name="approval_flow_version_unique"),
            models.UniqueConstraint(
                fields=["flow"], condition=Q(status="published"), name="approval_flow_one_published"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.flow.key} v{self.number}"

    @property
    def display_name(self) -> str:
        """For business users: the flow's name and version ("贷款申请审批 第1版"), never its key."""
        return str(_("%(name)s 第%(n)s版")) % {"name": self.flow.name, "n": self.number}

    @property
    def allows_same_approver(self) -> bool:
        """Segregation of duties is the default: only an explicit ``true`` relaxes it."""
        return (self.definition or {}).get(SAME_APPROVER_FLAG) is True

    def route(self, code: str) -> dict[str, Any] | None:
        route = (self.definition or {}).get("routes", {}).get(code)
        return route if isinstance(route, dict) else None


class ApprovalInstance(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("审批中")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("已拒绝")
        RETURNED = "returned", _("退回补充")
        CANCELLED = "cancelled", _("已撤销")

    flow_version = models.ForeignKey(
        FlowVersion,
        verbose_name=_("审批流版本"),
        on_delete=models.PROTECT,
        related_name="instances",
    )
    subject_type = models.CharField(max_length=60)
    subject_id = models.CharField(max_length=40)
    title = models.CharField(_("标题"), max_length=200)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    context = models.JSONField(_("审批要素"), default=dict)
    route = models.CharField(_("审批路径"), max_length=40)
    route_name = models.CharField(_("路径名称"), max_length=120, blank=True)
    route_reason = models.CharField(_("路径原因"), max_length=300, blank=True)
    route_evaluation = models.ForeignKey(
        "rules.Evaluation", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.RUNNING
    )
    current_step = models.PositiveIntegerField(_("当前步骤"), default=0)
    # Incremented when a returned step restarts: approvals of an earlier round do not count.
    round = models.PositiveIntegerField(default=1)
    question = models.TextField(_("退回问题"), blank=True)
    decided_amount = models.BigIntegerField(_("批准金额（分）"), null=True, blank=True)
    decided_months = models.PositiveIntegerField(_("批准期限（月）"), null=True, blank=True)
    # Data scope: the applicant's manager and their team/branch (see accounts.scope).
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="approval_instances",
    )
    team = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    branch = models.ForeignKey(
        "accounts.OrgUnit", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # Who created the subject (e.g. the application's 创建人), copied at start: segregation of
    # duties keeps them, like the owner and the submitter (started_by), off every task.
    subject_creator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("业务创建人"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    started_at = models.DateTimeField(_("发起时间"), default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("审批实例")
        verbose_name_plural = _("审批实例")
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id", "-id"], name="approval_subject_idx"),
            models.Index(fields=["owner", "-id"], name="approval_owner_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def applicant_id(self) -> int | None:
        value = (self.context or {}).get("applicant_id")
        try:
            return int(value) if value not in (None, "") else None
        except (TypeError, ValueError):
            return None

    @property
    def amount(self) -> int | None:
        """The amount now under approval (fen): lowered by an approver, else the requested one."""
        if self.decided_amount is not None:
            return self.decided_amount
        value = (self.context or {}).get("amount")
        return int(value) if isinstance(value, int | float) else None

    @property
    def months(self) -> int | None:
        if self.decided_months is not None:
            return self.decided_months
        value = (self.context or {}).get("months")
        return int(value) if isinstance(value, int | float) else None

    @property
    def steps(self) -> list[dict[str, Any]]:
        route = self.flow_version.route(self.route) or {}
        return list(route.get("steps") or [])

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING


class ApprovalTask(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("待审批")
        APPROVED = "approved", _("已批准")
        REJECTED = "rejected", _("已拒绝")
        RETURNED = "returned", _("已退回")
        TRANSFERRED = "transferred", _("已转交")
        ESCALATED = "escalated", _("已升级")
        SKIPPED = "skipped", _("无需处理")

    instance = models.ForeignKey(ApprovalInstance, on_delete=models.CASCADE, related_name="tasks")
    step = models.PositiveIntegerField(_("步骤"))
    round = models.PositiveIntegerField(default=1)
    # Which approver entry of the step this task fills; 会签 needs every slot approved.
    slot = models.PositiveIntegerField(default=0)
    step_name = models.CharField(_("步骤名称"), max_length=120)
    mode = models.CharField(_("方式"), max_length=3)
    role = models.CharField(_("角色"), max_length=40, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审批人"),
        on_delete=models.PROTECT,
        related_name="approval_tasks",
    )
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.OPEN)
    due_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    comment = models.TextField(_("意见"), blank=True)
    amount = models.BigIntegerField(_("批准金额（分）"), null=True, blank=True)
    months = models.PositiveIntegerField(_("批准期限（月）"), null=True, blank=True)
    previous = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("审批任务")
        verbose_name_plural = _("审批任务")
        ordering = ["instance", "step", "id"]
        indexes = [
            models.Index(fields=["assignee", "status"], name="approval_task_assignee_idx"),
            models.Index(fields=["status", "due_at"], name="approval_task_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.instance} · {self.step_name}"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at is not None and self.due_at < timezone.now()


class ApprovalAction(models.Model):
    """Append-only trail: who did what, when, with which comment and amounts."""

    class Kind(models.TextChoices):
        START = "start", _("发起")
        AUTO = "auto", _("自动通过")
        APPROVE = "approve", _("批准")
        REJECT = "reject", _("拒绝")
        RETURN = "return", _("退回补充")
        RESUME = "resume", _("补充后重新提交")
        TRANSFER = "transfer", _("转交")
        ESCALATE = "escalate", _("超时升级")
        STEP_DONE = "step_done", _("步骤完成")
        FINISH = "finish", _("审批结束")

    instance = models.ForeignKey(ApprovalInstance, on_delete=models.CASCADE, related_name="actions")
    task = models.ForeignKey(
        ApprovalTask, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    step = models.PositiveIntegerField(null=True, blank=True)
    kind = models.CharField(_("动作"), max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    comment = models.TextField(_("意见"), blank=True)
    amount = models.BigIntegerField(null=True, blank=True)
    months = models.PositiveIntegerField(null=True, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)

    class Meta:
        verbose_name = _("审批记录")
        verbose_name_plural = _("审批记录")
        ordering = ["instance", "id"]

    def __str__(self) -> str:
        return f"{self.instance_id} {self.kind}"
