from __future__ import annotations

from django.urls import path

from credo.reports import supervisory_views, views

app_name = "reports"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("list/", views.report_list, name="list"),
    path("builder/", views.builder, name="builder"),
    path("r/<int:pk>/", views.report_detail, name="report"),
    path("r/<int:pk>/edit/", views.builder, name="edit"),
    path("r/<int:pk>/delete/", views.report_delete, name="delete"),
    path("r/<int:pk>/schedule/", views.report_schedule, name="schedule"),
    path("r/<int:pk>/export.<str:fmt>", views.report_export, name="export"),
    path("runs/<int:pk>/export.xlsx", views.run_export, name="run_export"),
    path("standard/<slug:key>/", views.standard_report, name="standard"),
    path("vintage/", views.vintage_report, name="vintage"),
    path("roll-rates/", views.roll_rate_report, name="roll_rates"),
    path("forecast/", views.forecast_report, name="forecast"),
    path("staff/", views.staff_report, name="staff"),
    path("supervisory/", supervisory_views.supervisory_report, name="supervisory"),
    path(
        "supervisory/schedule/",
        supervisory_views.supervisory_schedule,
        name="supervisory_schedule",
    ),
]
