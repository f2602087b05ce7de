"""The models API, under /api/ (names carry the api-models prefix)."""

from django.urls import path

from . import apis

urlpatterns = [
    path("models/versions/", apis.ModelVersionListApi.as_view(), name="api-models-versions"),
    path("models/versions/<id:pk>/", apis.ModelVersionDetailApi.as_view(), name="api-models-version"),
    path("models/versions/<id:pk>/promote/", apis.ModelVersionPromoteApi.as_view(), name="api-models-promote"),
    path("models/versions/<id:pk>/retire/", apis.ModelVersionRetireApi.as_view(), name="api-models-retire"),
    path("models/segmentation/train/", apis.SegmentationTrainApi.as_view(), name="api-models-segmentation-train"),
    path("models/segmentation/segment-cohort/", apis.SegmentCohortApi.as_view(), name="api-models-segment-cohort"),
    path("models/classifier/train/", apis.ClassifierTrainApi.as_view(), name="api-models-classifier-train"),
    path("models/cases/<id:case_id>/predictions/", apis.CasePredictionsApi.as_view(), name="api-models-case-predictions"),
]
