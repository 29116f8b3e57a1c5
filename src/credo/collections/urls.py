from __future__ import annotations

from django.urls import path

from credo.collections import views

app_name = "collections"
urlpatterns = [
    path("", views.workbench, name="workbench"),
    path("team/", views.team, name="team"),
    path("legal/", views.legal, name="legal"),
    path("compliance/", views.compliance, name="compliance"),
    path("scripts/", views.scripts, name="scripts"),
    path("cases/<int:pk>/", views.case_detail, name="case_detail"),
    path("cases/<int:pk>/contact/", views.case_contact, name="case_contact"),
    path("cases/<int:pk>/promise/", views.case_promise, name="case_promise"),
    path("cases/<int:pk>/dnc/", views.case_dnc, name="case_dnc"),
    path("cases/<int:pk>/reassign/", views.case_reassign, name="case_reassign"),
    path("letters/<int:pk>.pdf", views.letter_download, name="letter"),
]
