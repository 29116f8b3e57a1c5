from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SchedulingConfig(AppConfig):
    name = "credo.core.scheduling"
    label = "scheduling"
    verbose_name = _("后台任务与定时计划")

    def ready(self) -> None:
        from credo.accounts.roles import register_role_permissions
        from credo.core.ui.nav import NavItem, register_nav

        register_role_permissions("admin", ["scheduling.view_tasks", "scheduling.manage_schedules"])

        from credo.core.scheduling.registry import register_schedule

        register_schedule(
            "scheduling.reap_stale_tasks",
            "credo.core.scheduling.tasks.reap_stale_tasks",
            "*/5 * * * *",
        )

        register_nav(
            NavItem(
                _("任务运行"),
                "scheduling:task_runs",
                "player-play",
                permission="scheduling.view_tasks",
                section="system",
                order=40,
            )
        )
        register_nav(
            NavItem(
                _("定时任务"),
                "scheduling:schedule_list",
                "clock",
                permission="scheduling.manage_schedules",
                section="system",
                order=41,
            )
        )
