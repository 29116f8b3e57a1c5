from django.urls import path

from credo.imapps import views

app_name = "imapps"
urlpatterns = [
    path("", views.index, name="index"),
    path("card/<str:token>/", views.card_act, name="card_act"),
    path("wecom/event/", views.wecom_event, name="wecom_event"),
    path("<str:platform>/edit/", views.edit, name="edit"),
    path("<str:platform>/test/", views.test, name="test"),
    path("<str:platform>/sync/", views.sync, name="sync"),
    path("<str:platform>/login/", views.login, name="login"),
    path("<str:platform>/callback/", views.callback, name="callback"),
]
