from django.urls import include, path

from credo.core import views
from credo.core.health import readyz_view
from credo.core.metrics import metrics_view

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("healthz", views.healthz, name="healthz"),
    path("readyz", readyz_view, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
    path("system/holidays/", include("credo.core.holidays.urls")),
]
