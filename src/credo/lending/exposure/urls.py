"""URLs of 集中度管理 (namespace ``lending:exposure``)."""

from django.urls import path

from credo.lending.exposure import views

app_name = "exposure"
urlpatterns = [
    path("", views.report, name="report"),
    path("net-assets/", views.net_assets, name="net_assets"),
    path("limits/", views.limits, name="limits"),
]
