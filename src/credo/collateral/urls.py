from __future__ import annotations

from django.urls import path

from credo.collateral import views

app_name = "collateral"
urlpatterns = [
    path("", views.collateral_list, name="list"),
    path("new/", views.collateral_create, name="create"),
    path("<int:pk>/", views.collateral_detail, name="detail"),
    path("<int:pk>/edit/", views.collateral_edit, name="edit"),
    path("<int:pk>/valuations/", views.valuation_add, name="valuation_add"),
    path("<int:pk>/register/", views.collateral_register, name="register"),
    path("<int:pk>/release/", views.collateral_release_request, name="release_request"),
    path("guarantees/new/", views.guarantee_create, name="guarantee_create"),
    path("guarantees/<int:pk>/", views.guarantee_detail, name="guarantee_detail"),
    path("guarantees/<int:pk>/edit/", views.guarantee_edit, name="guarantee_edit"),
    path("guarantees/<int:pk>/release/", views.guarantee_release_request, name="guarantee_release"),
    path("ltv-limits/", views.ltv_limits, name="ltv_limits"),
    path("releases/<int:pk>/decide/", views.release_decide, name="release_decide"),
]
