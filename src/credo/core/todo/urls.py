from django.urls import path

from credo.core.todo import views

app_name = "todo"
urlpatterns = [
    path("", views.todo_list, name="list"),
    path("<int:pk>/complete/", views.todo_complete_view, name="complete"),
]
