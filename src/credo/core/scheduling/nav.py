"""Navigation entries of background tasks and schedules."""

from django.utils.translation import gettext_lazy as _

from credo.core.ui.nav import NavItem, register_nav

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
