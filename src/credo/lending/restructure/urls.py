"""URLs of restructuring and recovery, included into the ``lending`` namespace."""

from django.urls import path

from credo.lending.restructure import views

urlpatterns = [
    path("loans/<int:pk>/restructure/panel/", views.panel, name="restructure_panel"),
    path("loans/<int:pk>/restructure/new/", views.request_page, name="restructure_request"),
    path("loans/<int:pk>/restructure/<int:rid>/", views.detail, name="restructure_detail"),
    path(
        "loans/<int:pk>/restructure/<int:rid>/approve/",
        views.decide,
        {"decision": "approve"},
        name="restructure_approve",
    ),
    path(
        "loans/<int:pk>/restructure/<int:rid>/reject/",
        views.decide,
        {"decision": "reject"},
        name="restructure_reject",
    ),
    path("loans/<int:pk>/restructure/<int:rid>/cancel/", views.cancel, name="restructure_cancel"),
    path("loans/<int:pk>/recovery/", views.recovery_page, name="recovery"),
]
