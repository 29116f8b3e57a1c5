"""Included by ``credo.core.urls`` under ``system/holidays/`` (names in the ``core`` namespace)."""

from django.urls import path

from credo.core.holidays import views

urlpatterns = [
    path("", views.holiday_year, name="holidays"),
    path("new/", views.holiday_edit, name="holiday_create"),
    path("<int:pk>/", views.holiday_edit, name="holiday_edit"),
    path("<int:pk>/delete/", views.holiday_delete, name="holiday_delete"),
    path("import/", views.holiday_import, name="holiday_import"),
    path("import/confirm/", views.holiday_import_confirm, name="holiday_import_confirm"),
    path("export/", views.holiday_export, name="holiday_export"),
    path("load-default/", views.holiday_load_default, name="holiday_load_default"),
]
