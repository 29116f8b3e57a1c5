from __future__ import annotations

from django.urls import path

from credo.leads import views

app_name = "leads"
urlpatterns = [
    path("", views.lead_list, name="list"),
    path("new/", views.lead_create, name="create"),
    path("board/", views.board, name="board"),
    path("funnel/", views.funnel, name="funnel"),
    path("import/", views.import_view, name="import"),
    path("import/template.xlsx", views.import_template, name="import_template"),
    path("handover/", views.book_reassign, name="book_reassign"),
    path("assignees/", views.assignees, name="assignees"),
    path("<int:pk>/", views.lead_detail, name="detail"),
    path("<int:pk>/edit/", views.lead_edit, name="edit"),
    path("<int:pk>/follow-up/", views.followup_add, name="followup_add"),
    path("<int:pk>/stage/", views.stage_change, name="stage"),
    path("<int:pk>/convert/", views.convert, name="convert"),
    path("<int:pk>/merge/", views.merge, name="merge"),
    path("<int:pk>/assign/", views.assign, name="assign"),
]
