from django.urls import path

from . import pacs_views, views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("import/", views.import_page, name="import"),
    path("<id:pk>/", views.case_detail, name="detail"),
    path("<id:pk>/exclusions/", views.case_exclusion_add, name="exclusion-add"),
    path(
        "<id:pk>/exclusions/<id:exclusion_pk>/remove/", views.case_exclusion_remove, name="exclusion-remove"
    ),
    path("qc/<id:pk>/confirm/", views.qc_finding_decide, {"decision": "confirm"}, name="qc-confirm"),
    path("qc/<id:pk>/dismiss/", views.qc_finding_decide, {"decision": "dismiss"}, name="qc-dismiss"),
    path("cohorts/", views.cohort_list, name="cohorts"),
    path("pacs/", pacs_views.pacs_search, name="pacs"),
    path("cohorts/create/", views.cohort_create, name="cohort-create"),
    path("cohorts/<id:pk>/", views.cohort_detail, name="cohort"),
    path("cohorts/<id:pk>/cases/", views.cohort_cases_edit, name="cohort-cases"),
    path("cohorts/<id:pk>/splits/", views.split_freeze, name="split-freeze"),
]
