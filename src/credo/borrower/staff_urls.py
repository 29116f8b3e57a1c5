"""Staff pages for borrower requests (mounted at /borrower-requests/)."""

from __future__ import annotations

from django.urls import path

from credo.borrower import staff_views

app_name = "borrower_staff"
urlpatterns = [
    path("", staff_views.request_list, name="list"),
    path("<int:pk>/", staff_views.request_detail, name="detail"),
    path("<int:pk>/decide/", staff_views.request_decide, name="decide"),
]
