from django.urls import path

from . import views

app_name = "annotations"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("assignments/<id:pk>/", views.viewer, name="viewer"),
    path("review/", views.review_list, name="review"),
    path("review/<id:pk>/decide/", views.review_decide, name="review-decide"),
    path("cohorts/", views.coordinate, name="coordinate"),
    path("interobserver/", views.interobserver, name="interobserver"),
]
