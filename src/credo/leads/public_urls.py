from __future__ import annotations

from django.urls import path

from credo.leads import views

app_name = "lead_forms"
urlpatterns = [
    path("leads/", views.public_form, name="lead"),
]
