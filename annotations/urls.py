from django.urls import path

from . import views

app_name = "annotations"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("assignments/<id:pk>/", views.viewer, name="viewer"),
    path("review/", views.review_list, name="review"),
    path("review/<id:pk>/decide/", views.review_decide, name="review-decide"),
    path("cohorts/", views.coordinate, name="coordinate"),
    path("cohorts/assign/", views.assign_cases, name="assign-cases"),
    path("cases/<int:pk>/<str:plane>.png", views.case_thumbnail, name="case-thumbnail"),
    path("assignments/<int:pk>/reassign/", views.reassign, name="reassign"),
    path("interobserver/", views.interobserver, name="interobserver"),
]
