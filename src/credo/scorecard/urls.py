from __future__ import annotations

from django.urls import path

from credo.scorecard import views

app_name = "scorecard"
urlpatterns = [
    path("", views.scorecard_list, name="list"),
    path("train/", views.scorecard_train, name="train"),
    path("insight/", views.scorecard_insight, name="insight"),
    path("<int:pk>/", views.scorecard_detail, name="detail"),
    path("<int:pk>/progress/", views.scorecard_progress, name="progress"),
    path("<int:pk>/publish/", views.scorecard_publish, name="publish"),
    path("<int:pk>/retire/", views.scorecard_retire, name="retire"),
    path("<int:pk>/model.json", views.scorecard_model_json, name="model_json"),
]
