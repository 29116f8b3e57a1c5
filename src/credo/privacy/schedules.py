"""Periodic jobs of the privacy app: held deletions whose retention period ended, then the
retention policies, every night after the close of business."""

from credo.core.scheduling.registry import register_schedule

register_schedule("privacy.retention", "credo.privacy.tasks.retention_nightly", "30 3 * * *")
