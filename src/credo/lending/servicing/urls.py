"""URLs of the servicing approvals (namespace ``lending:servicing``)."""

from django.urls import path

from credo.lending.servicing import views

app_name = "servicing"
urlpatterns = [
    path("loans/<int:pk>/panel/", views.loan_panel, name="loan_panel"),
    path("loans/<int:pk>/waiver/new/", views.waiver_new, name="waiver_new"),
    path("loans/<int:pk>/waiver/owed/", views.waiver_owed, name="waiver_owed"),
    path("loans/<int:pk>/classification/new/", views.class_new, name="class_new"),
    path("waivers/", views.waiver_list, name="waiver_list"),
    path("waivers/<int:pk>/", views.waiver_detail, name="waiver_detail"),
    path("waivers/<int:pk>/approve/", views.waiver_approve, name="waiver_approve"),
    path("waivers/<int:pk>/reject/", views.waiver_reject, name="waiver_reject"),
    path("waivers/<int:pk>/cancel/", views.waiver_cancel, name="waiver_cancel"),
    path("waivers/<int:pk>/attachment/", views.waiver_attachment, name="waiver_attachment"),
    path("classifications/", views.class_list, name="class_list"),
    path("classifications/<int:pk>/", views.class_detail, name="class_detail"),
    path("classifications/<int:pk>/approve/", views.class_approve, name="class_approve"),
    path("classifications/<int:pk>/reject/", views.class_reject, name="class_reject"),
    path("classifications/<int:pk>/cancel/", views.class_cancel, name="class_cancel"),
]
