from __future__ import annotations

from django.urls import path

from credo.approvals import views

app_name = "approvals"
urlpatterns = [
    path("inbox/", views.inbox, name="inbox"),
    path("tasks/<int:pk>/", views.task_detail, name="task_detail"),
    path("tasks/<int:pk>/act/", views.task_act, name="task_act"),
    path("instances/<int:pk>/", views.instance_detail, name="instance_detail"),
    path("instances/<int:pk>/resume/", views.instance_resume, name="instance_resume"),
    path("flows/", views.flow_list, name="flow_list"),
    path("flows/<int:pk>/", views.flow_detail, name="flow_detail"),
    path("flows/<int:pk>/versions/new/", views.version_new, name="version_new"),
    path("versions/<int:pk>/", views.version_edit, name="version_edit"),
    path("versions/<int:pk>/publish/", views.version_publish, name="version_publish"),
]
