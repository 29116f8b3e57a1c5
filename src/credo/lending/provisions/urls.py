"""URLs of 贷款损失准备 (namespace ``lending:provisions``)."""

from django.urls import path

from credo.lending.provisions import views

app_name = "provisions"
urlpatterns = [
    path("", views.report, name="report"),
    path("run/", views.run, name="run"),
    path("rates/", views.rates, name="rates"),
]
