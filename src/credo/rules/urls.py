from __future__ import annotations

from django.urls import path

from credo.rules import views

app_name = "rules"
urlpatterns = [
    path("", views.model_list, name="model_list"),
    path("<str:key>/", views.model_detail, name="model_detail"),
    path("<str:key>/versions/new/", views.version_new, name="version_new"),
    path("<str:key>/versions/upload/", views.version_upload, name="version_upload"),
    path("<str:key>/v<int:number>/", views.version_edit, name="version_edit"),
    path("<str:key>/v<int:number>/try/", views.version_try, name="version_try"),
    path("<str:key>/v<int:number>/tests/", views.version_tests, name="version_tests"),
    path("<str:key>/v<int:number>/publish/", views.version_publish, name="version_publish"),
    path("<str:key>/v<int:number>/discard/", views.version_discard, name="version_discard"),
    path("<str:key>/v<int:number>/download/", views.version_download, name="version_download"),
    path("<str:key>/v<int:number>/simulate/", views.version_simulate, name="version_simulate"),
    path("<str:key>/tests/", views.testcase_create, name="testcase_create"),
    path("<str:key>/tests/<int:pk>/delete/", views.testcase_delete, name="testcase_delete"),
]
