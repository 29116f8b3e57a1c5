from __future__ import annotations

from django.urls import path

from credo.origination import portal_views

app_name = "portal"
urlpatterns = [
    # before "<token>/upload/": an invitation token may never shadow an upload route
    path("invite/<str:token>/", portal_views.portal_invite, name="invite"),
    path("<str:token>/", portal_views.portal_page, name="page"),
    path("<str:token>/upload/", portal_views.portal_upload, name="upload"),
    path("<str:token>/submit/", portal_views.portal_submit, name="submit"),
]
