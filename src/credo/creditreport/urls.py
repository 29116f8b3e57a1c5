from django.urls import path

from credo.creditreport import views

app_name = "creditreport"

urlpatterns = [
    path("", views.index, name="index"),
    path("generate/", views.generate, name="generate"),
    path("corrections/", views.corrections, name="corrections"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/errors/", views.errors, name="errors"),
    path("<int:pk>/export/", views.export, name="export"),
    path("<int:pk>/approve/", views.approve, name="approve"),
    path("<int:pk>/submit/", views.submit, name="submit"),
    path("<int:pk>/cancel/", views.cancel, name="cancel"),
    path("files/<int:pk>/", views.download, name="download"),
]
