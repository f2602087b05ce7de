from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("<id:pk>/", views.case_detail, name="detail"),
    path("cohorts/", views.cohort_list, name="cohorts"),
    path("cohorts/<id:pk>/", views.cohort_detail, name="cohort"),
]
