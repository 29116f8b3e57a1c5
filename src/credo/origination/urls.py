from __future__ import annotations

from django.urls import path

from credo.origination import views

app_name = "origination"
urlpatterns = [
    path("applications/", views.application_list, name="list"),
    path("applications/new/", views.application_create, name="create"),
    path("applications/<int:pk>/", views.application_detail, name="detail"),
    path("applications/<int:pk>/submit/", views.application_submit, name="submit"),
    path("applications/<int:pk>/withdraw/", views.application_withdraw, name="withdraw"),
    path("applications/<int:pk>/answer/", views.application_answer, name="answer"),
    path("applications/<int:pk>/loan/", views.application_create_loan, name="create_loan"),
    path(
        "applications/<int:pk>/contract/",
        views.application_contract_resend,
        name="contract_resend",
    ),
    path("applications/<int:pk>/documents/", views.document_upload, name="upload"),
    path(
        "applications/<int:pk>/documents/<int:doc_pk>/review/",
        views.document_review,
        name="review",
    ),
    path("applications/<int:pk>/notice/", views.notice_issue, name="notice"),
    path("applications/<int:pk>/portal-links/", views.portal_link_create, name="link_create"),
    path(
        "applications/<int:pk>/portal-links/<int:link_pk>/revoke/",
        views.portal_link_revoke,
        name="link_revoke",
    ),
    path("documents/<int:doc_pk>/", views.document_download, name="download"),
    path(
        "customers/<int:customer_pk>/portal-invites/",
        views.portal_invite_create,
        name="invite_create",
    ),
    path(
        "customers/<int:customer_pk>/portal-invites/list/",
        views.portal_invite_list,
        name="invite_list",
    ),
    path(
        "customers/<int:customer_pk>/portal-invites/<int:link_pk>/revoke/",
        views.portal_invite_revoke,
        name="invite_revoke",
    ),
]
