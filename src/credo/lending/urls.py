from django.urls import path

from credo.lending import views

app_name = "lending"
urlpatterns = [
    path("calculator/", views.calculator, name="calculator"),
]
