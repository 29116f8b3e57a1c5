"""Default schedules of core."""

from credo.core.scheduling.registry import register_schedule

register_schedule("core.purge_import_files", "credo.core.tasks.purge_import_files", "17 * * * *")
