from django.urls import path

from credo.lending.charges import views

urlpatterns = [
    path("loans/<int:pk>/charge/", views.charge_page, name="loan_charge"),
    path(
        "loans/<int:pk>/charges/<int:charge_pk>/reverse/",
        views.charge_reverse,
        name="loan_charge_reverse",
    ),
]
