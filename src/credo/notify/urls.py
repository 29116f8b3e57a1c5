from __future__ import annotations

from django.urls import path

from credo.notify import views

app_name = "notify"
urlpatterns = [
    path("inbox/", views.inbox_view, name="inbox"),
    path("inbox/<int:pk>/", views.inbox_open, name="inbox_open"),
    path("inbox/<int:pk>/read/", views.inbox_read, name="inbox_read"),
    path("inbox/read-all/", views.inbox_read_all, name="inbox_read_all"),
    path("outbox/", views.outbox_view, name="outbox"),
    path("outbox/<int:pk>/", views.message_detail, name="message_detail"),
    path("outbox/<int:pk>/retry/", views.message_retry_view, name="message_retry"),
    path("outbox/<int:pk>/cancel/", views.message_cancel_view, name="message_cancel"),
    path("channels/", views.channel_list, name="channels"),
    path("channels/new/", views.channel_edit, name="channel_create"),
    path("channels/<int:pk>/", views.channel_edit, name="channel_edit"),
    path("channels/<int:pk>/test/", views.channel_test, name="channel_test"),
    path("templates/", views.template_list, name="templates"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("templates/<int:pk>/preview/", views.template_preview_view, name="template_preview"),
    path("templates/<int:pk>/reset/", views.template_reset_view, name="template_reset"),
    path("templates/<int:pk>/test/", views.template_test, name="template_test"),
]
