"""Pages of the book migration, mounted inside ``lending.urls`` (names ``lending:book_*``)."""

from django.urls import path

from credo.lending.bookimport import views

urlpatterns = [
    path("book/", views.book_imports, name="book_imports"),
    path("book/confirm/", views.book_import_confirm, name="book_import_confirm"),
    path("book/template.xlsx", views.book_template, name="book_template"),
    path("book/<int:pk>/", views.book_import_detail, name="book_import_detail"),
    path("book/<int:pk>/reconciliation.xlsx", views.book_import_xlsx, name="book_import_xlsx"),
]
