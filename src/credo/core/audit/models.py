"""Append-only, hash-chained audit log (every state change and every unmasked sensitive read)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class AuditEntry(models.Model):
    """One audit row. A business transaction inserts it with its content and ``content_hash``
    (a keyed hash of the content) and touches no shared row; the sealer
    (``credo.core.audit.services.audit_seal``) later gives it its chain position: ``seq``
    (gaps or reordering break verification), ``prev_hash`` and ``hash``. Until then the three
    are NULL and the row is 未封存 (unsealed)."""

    seq = models.BigIntegerField(_("序号"), unique=True, null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), db_index=True)
    actor_id = models.BigIntegerField(_("操作人ID"), null=True, blank=True)
    actor_name = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("动作"), max_length=80, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=80, blank=True)
    object_id = models.CharField(_("对象ID"), max_length=64, blank=True)
    object_repr = models.CharField(_("对象"), max_length=200, blank=True)
    changes = models.JSONField(_("变更"), default=dict, blank=True)
    metadata = models.JSONField(_("附加信息"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP地址"), null=True, blank=True)
    request_id = models.CharField(_("请求ID"), max_length=64, blank=True)
    # Keyed hash of the content, written with the row; empty on rows sealed at insert (before
    # the sealer existed). The sealer re-checks it, so an edit before sealing is detected.
    content_hash = models.CharField(_("内容哈希"), max_length=64, blank=True, default="")
    prev_hash = models.CharField(_("前一条哈希"), max_length=64, null=True, blank=True)
    # Not indexed: nothing looks a row up by its hash (verify walks by ``seq``), and every index
    # is paid twice per row, at the insert and at the sealer's update.
    hash = models.CharField(_("哈希"), max_length=64, null=True, blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["-id"]
        permissions = [("view_audit_log", _("查看审计日志"))]
        indexes = [
            # the sealer's queue and the lag figure: only unsealed rows are in it
            models.Index(fields=["id"], condition=Q(seq__isnull=True), name="audit_unsealed_idx"),
            # equality lookups only: plain b-trees, without the ``varchar_pattern_ops`` twins
            # ``db_index=True`` adds on PostgreSQL (each index costs every audited write)
            models.Index(fields=["object_type"], name="audit_object_type_idx"),
            models.Index(fields=["object_id"], name="audit_object_id_idx"),
        ]

    def __str__(self) -> str:
        position = f"#{self.seq}" if self.seq is not None else f"(id {self.pk})"
        return f"{position} {self.action} {self.object_type}:{self.object_id}"

    @property
    def sealed(self) -> bool:
        return self.seq is not None


class AuditChainHead(models.Model):
    """The chain tail (seq, hash). Only the sealer locks and moves it; business transactions
    never touch it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("审计链头")

    def __str__(self) -> str:
        return f"head #{self.seq}"


class AuditCheckpoint(models.Model):
    """A keyed anchor of the chain tail: ``mac = HMAC(anchor key, seq|hash|count|at|source)``.

    The anchor key never lives in the database, so a checkpoint cannot be forged by someone who
    can only write SQL; every checkpoint is also appended to the anchor file (and optionally
    syslog), so deleting the newest audit rows *and* these rows is still detected.
    """

    created_at = models.DateTimeField(_("时间"))
    seq = models.BigIntegerField(_("序号"))
    hash = models.CharField(_("哈希"), max_length=64)
    count = models.BigIntegerField(_("记录数"))
    source = models.CharField(_("来源"), max_length=20)
    mac = models.CharField(_("校验码"), max_length=64)

    class Meta:
        verbose_name = _("审计检查点")
        verbose_name_plural = _("审计检查点")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"checkpoint #{self.pk} seq={self.seq}"
