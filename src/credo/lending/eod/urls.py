from django.urls import path

from credo.lending.eod import views as eod_views

app_name = "lending_eod"
urlpatterns = [
    path("", eod_views.runs, name="runs"),
    path("rerun/", eod_views.rerun_view, name="rerun"),
    path("<int:pk>/", eod_views.run_detail, name="run_detail"),
    path("<int:pk>/jobs/<int:job_pk>/retry/", eod_views.job_retry_view, name="job_retry"),
]
