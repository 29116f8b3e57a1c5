from django.urls import path

from credo.api import views

app_name = "apiui"
urlpatterns = [
    path("docs/", views.docs, name="docs"),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/<int:pk>/revoke/", views.token_revoke_view, name="token_revoke"),
]
