from __future__ import annotations

from django.urls import path

from credo.monitoring import views

app_name = "monitoring"
urlpatterns = [
    path("alerts/", views.alert_list, name="alert_list"),
    path("alerts/<int:pk>/", views.alert_detail, name="alert_detail"),
    path("alerts/<int:pk>/<slug:action>/", views.alert_act, name="alert_act"),
    path("retention/", views.retention, name="retention"),
    path("retention/<int:pk>/decide/", views.retention_decide, name="retention_decide"),
]
