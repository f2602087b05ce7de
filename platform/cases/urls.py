from django.urls import path

from . import views

app_name = "cases"
urlpatterns = [
    path("", views.case_list, name="list"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("qc/<int:pk>/confirm/", views.qc_finding_decide, {"decision": "confirm"}, name="qc-confirm"),
    path("qc/<int:pk>/dismiss/", views.qc_finding_decide, {"decision": "dismiss"}, name="qc-dismiss"),
    path("cohorts/", views.cohort_list, name="cohorts"),
    path("cohorts/<int:pk>/", views.cohort_detail, name="cohort"),
]
