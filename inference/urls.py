"""The inference pages, under /models/ with the "inference" namespace: models and training, the overlay
of a predicted mask, and the evaluation dashboards."""

from django.urls import path

from inference.evaluation import views as evaluation
from inference.predictions import views as predictions
from inference.training import views as training

app_name = "inference"
urlpatterns = [
    path("", training.model_list, name="models"),
    path("versions/<id:pk>/", training.version_detail, name="version"),
    path("versions/<id:pk>/files/<slug:role>/", training.version_file, name="version-file"),
    path("versions/<id:pk>/promote/", training.version_promote, name="version-promote"),
    path("versions/<id:pk>/retire/", training.version_retire, name="version-retire"),
    path("train/segmentation/", training.segmentation_train, name="segmentation-train"),
    path("segment-cohort/", training.segment_cohort, name="segment-cohort"),
    path("train/classifier/", training.classifier_train, name="classifier-train"),
    path("jobs/<id:pk>/", training.model_job, name="job"),
    path("segmentations/<id:pk>/overlay/", predictions.overlay, name="overlay"),
    path("segmentations/<id:pk>/overlay/<int:z>.png", predictions.overlay_slice, name="overlay-slice"),
    path("dashboard/", evaluation.dashboard, name="dashboard"),
    path("dashboard/predictions/", evaluation.predictions, name="dashboard-predictions"),
    path("dashboard/predictions.csv", evaluation.predictions_csv, name="dashboard-predictions-csv"),
    path("dashboard/compare/", evaluation.compare, name="dashboard-compare"),
    path("dashboard/report/", evaluation.report, name="dashboard-report"),
]
