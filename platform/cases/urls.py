from django.urls import path

from . import pacs_views, views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("<id:pk>/", views.case_detail, name="detail"),
    path("cohorts/", views.cohort_list, name="cohorts"),
    path("pacs/", pacs_views.pacs_search, name="pacs"),
    path("cohorts/<id:pk>/", views.cohort_detail, name="cohort"),
]
