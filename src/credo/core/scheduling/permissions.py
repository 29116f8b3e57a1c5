"""Role grants of background tasks and schedules."""

from credo.core.roles import register_role_permissions

register_role_permissions("admin", ["scheduling.view_tasks", "scheduling.manage_schedules"])
