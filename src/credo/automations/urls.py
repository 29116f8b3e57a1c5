from __future__ import annotations

from django.urls import path

from credo.automations import views

app_name = "automations"
urlpatterns = [
    path("", views.automation_list, name="list"),
    path("new/", views.automation_new, name="new"),
    path("<int:pk>/", views.automation_detail, name="detail"),
    path("<int:pk>/versions/new/", views.version_new, name="version_new"),
    path("<int:pk>/v<int:number>/", views.version_edit, name="version_edit"),
    path("<int:pk>/v<int:number>/try/", views.version_try, name="version_try"),
    path("<int:pk>/v<int:number>/tests/", views.version_tests, name="version_tests"),
    path("<int:pk>/v<int:number>/publish/", views.version_publish, name="version_publish"),
    path("<int:pk>/v<int:number>/retire/", views.version_retire, name="version_retire"),
    path("<int:pk>/v<int:number>/discard/", views.version_discard, name="version_discard"),
    path("<int:pk>/tests/", views.testcase_create, name="testcase_create"),
    path("<int:pk>/tests/<int:case>/delete/", views.testcase_delete, name="testcase_delete"),
    path("<int:pk>/runs/<int:run>/", views.run_detail, name="run_detail"),
]
