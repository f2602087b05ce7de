"""The inference API, under /api/ (no namespace: names carry the api-models or api-dashboard prefix)."""

from django.urls import path

from inference.evaluation import apis as evaluation
from inference.predictions import apis as predictions
from inference.predictions import dicom_apis
from inference.training import apis as training

urlpatterns = [
    path("models/versions/", training.ModelVersionListApi.as_view(), name="api-models-versions"),
    path("models/versions/<id:pk>/", training.ModelVersionDetailApi.as_view(), name="api-models-version"),
    path(
        "models/versions/<id:pk>/promote/",
        training.ModelVersionPromoteApi.as_view(),
        name="api-models-promote",
    ),
    path(
        "models/versions/<id:pk>/retire/", training.ModelVersionRetireApi.as_view(), name="api-models-retire"
    ),
    path(
        "models/segmentation/train/",
        training.SegmentationTrainApi.as_view(),
        name="api-models-segmentation-train",
    ),
    path(
        "models/segmentation/segment-cohort/",
        training.SegmentCohortApi.as_view(),
        name="api-models-segment-cohort",
    ),
    path(
        "models/classifier/train/", training.ClassifierTrainApi.as_view(), name="api-models-classifier-train"
    ),
    path(
        "models/cases/<id:case_id>/predictions/",
        predictions.CasePredictionsApi.as_view(),
        name="api-models-case-predictions",
    ),
    path("dashboard/", evaluation.DashboardApi.as_view(), name="api-dashboard"),
    path("dashboard/compare/", evaluation.ComparisonApi.as_view(), name="api-dashboard-compare"),
    path(
        "segmentations/<id:pk>/seg.dcm", dicom_apis.SegmentationSegApi.as_view(), name="api-segmentation-seg"
    ),
    path(
        "segmentations/<id:pk>/seg/send/",
        dicom_apis.SegmentationSegSendApi.as_view(),
        name="api-segmentation-seg-send",
    ),
    path("predictions/<id:pk>/sr.dcm", dicom_apis.PredictionSrApi.as_view(), name="api-prediction-sr"),
    path(
        "predictions/<id:pk>/sr/send/",
        dicom_apis.PredictionSrSendApi.as_view(),
        name="api-prediction-sr-send",
    ),
]
