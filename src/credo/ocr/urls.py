from django.urls import path

from credo.ocr import views

app_name = "ocr"
urlpatterns = [
    path("", views.request_list, name="request_list"),
    path("recognize/", views.recognize, name="recognize"),
    path("requests/<int:pk>/confirm/", views.confirm, name="confirm"),
]
