"""Default schedules of the 企业微信 / 钉钉 apps."""

from credo.core.scheduling.registry import register_schedule

register_schedule("imapps.sync_all", "credo.imapps.tasks.sync_all", "40 2 * * *")
