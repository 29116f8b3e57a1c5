from django.urls import path

from credo.privacy import views

app_name = "privacy"

urlpatterns = [
    path("requests/", views.request_list, name="request_list"),
    path("requests/new/", views.request_create, name="request_create"),
    path("requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("requests/<int:pk>/export/", views.request_export, name="request_export"),
    path("requests/<int:pk>/execute/", views.request_execute, name="request_execute"),
    path("requests/<int:pk>/reject/", views.request_reject, name="request_reject"),
    path("requests/<int:pk>/complete/", views.request_complete, name="request_complete"),
    path("consents/", views.consent_record, name="consent_record"),
    path("consents/<int:pk>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
    path("holds/", views.hold_place, name="hold_place"),
    path("holds/<int:pk>/release/", views.hold_release, name="hold_release"),
    path("inventory/", views.inventory, name="inventory"),
    path("retention/", views.retention, name="retention"),
]
