from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("import/", views.import_page, name="import"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/exclusions/", views.case_exclusion_add, name="exclusion-add"),
    path("<int:pk>/exclusions/<int:exclusion_pk>/remove/", views.case_exclusion_remove, name="exclusion-remove"),
    path("cohorts/", views.cohort_list, name="cohorts"),
    path("cohorts/create/", views.cohort_create, name="cohort-create"),
    path("cohorts/<int:pk>/", views.cohort_detail, name="cohort"),
    path("cohorts/<int:pk>/cases/", views.cohort_cases_edit, name="cohort-cases"),
    path("cohorts/<int:pk>/splits/", views.split_freeze, name="split-freeze"),
]
