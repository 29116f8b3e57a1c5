from django.urls import path

from credo.core.scheduling import views

app_name = "scheduling"
urlpatterns = [
    path("", views.task_run_list, name="task_runs"),
    path("runs/<uuid:pk>/", views.task_run_detail, name="task_run_detail"),
    path("runs/<uuid:pk>/retry/", views.task_run_retry, name="task_run_retry"),
    path("schedules/", views.schedule_list, name="schedule_list"),
    path("schedules/<int:pk>/toggle/", views.schedule_toggle, name="schedule_toggle"),
    path("schedules/<int:pk>/edit/", views.schedule_edit, name="schedule_edit"),
    path("schedules/<int:pk>/run/", views.schedule_run, name="schedule_run"),
]
