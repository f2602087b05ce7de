from django.urls import path

from . import apis, dicom_apis

urlpatterns = [
    path("cases/", apis.CaseListApi.as_view(), name="api-case-list"),
    path("cases/import/", apis.CaseImportApi.as_view(), name="api-case-import"),
    path("cases/<id:pk>/", apis.CaseDetailApi.as_view(), name="api-case-detail"),
    path("cases/<id:pk>/exclusions/", apis.ExclusionCreateApi.as_view(), name="api-case-exclusion-create"),
    path("qct/import/", apis.QCTImportApi.as_view(), name="api-qct-import"),
    path("pacs/", dicom_apis.PacsListApi.as_view(), name="api-pacs-list"),
    path("pacs/<str:name>/studies/", dicom_apis.PacsSearchApi.as_view(), name="api-pacs-search"),
    path("pacs/<str:name>/import/", dicom_apis.PacsImportApi.as_view(), name="api-pacs-import"),
    path("cohorts/", apis.CohortListApi.as_view(), name="api-cohort-list"),
    path("cohorts/create/", apis.CohortCreateApi.as_view(), name="api-cohort-create"),
    path("cohorts/<id:pk>/flow/", apis.CohortFlowApi.as_view(), name="api-cohort-flow"),
    path("cohorts/<id:pk>/splits/", apis.SplitCreateApi.as_view(), name="api-split-create"),
]
