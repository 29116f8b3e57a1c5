from django.urls import path

from credo.records import views

app_name = "records"
urlpatterns = [
    path("", views.home, name="home"),
    path("types/", views.type_list, name="type_list"),
    path("types/new/", views.type_create, name="type_create"),
    path("types/<int:pk>/", views.type_detail, name="type_detail"),
    path("types/<int:pk>/edit/", views.type_edit, name="type_edit"),
    path("types/<int:pk>/publish/", views.type_publish, name="type_publish"),
    path("types/<int:pk>/retire/", views.type_retire, name="type_retire"),
    path("t/<slug:code>/", views.record_list, name="list"),
    path("t/<slug:code>/new/", views.record_create, name="create"),
    path("<int:pk>/", views.record_detail, name="detail"),
    path("<int:pk>/edit/", views.record_edit, name="edit"),
    path("files/<int:pk>/", views.file_download, name="file"),
]
