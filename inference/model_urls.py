"""The model pages, under /models/ (inference.urls includes this with the "inference" namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.model_list, name="models"),
    path("versions/<id:pk>/", views.version_detail, name="version"),
    path("versions/<id:pk>/files/<slug:role>/", views.version_file, name="version-file"),
    path("versions/<id:pk>/promote/", views.version_promote, name="version-promote"),
    path("versions/<id:pk>/retire/", views.version_retire, name="version-retire"),
    path("train/segmentation/", views.segmentation_train, name="segmentation-train"),
    path("segment-cohort/", views.segment_cohort, name="segment-cohort"),
    path("train/classifier/", views.classifier_train, name="classifier-train"),
    path("jobs/<id:pk>/", views.model_job, name="job"),
    path("segmentations/<id:pk>/overlay/", views.overlay, name="overlay"),
    path("segmentations/<id:pk>/overlay/<int:z>.png", views.overlay_slice, name="overlay-slice"),
]
