from __future__ import annotations

from django.urls import URLPattern

app_name = "origination"
urlpatterns: list[URLPattern] = []
