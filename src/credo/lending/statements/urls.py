"""Bank statement import pages; mounted at /lending/statements/ (namespace lending_statements)."""

from django.urls import path

from credo.lending.statements import views

app_name = "lending_statements"
urlpatterns = [
    path("", views.statement_list, name="list"),
    path("<int:pk>/", views.statement_detail, name="detail"),
    path("<int:pk>/post/", views.statement_post, name="post"),
    path("lines/<int:line_pk>/match/", views.line_match, name="line_match"),
    path("lines/<int:line_pk>/ignore/", views.line_ignore, name="line_ignore"),
    path("lines/<int:line_pk>/post/", views.line_post, name="line_post"),
]
