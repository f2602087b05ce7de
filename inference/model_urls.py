"""The model pages, under /models/ (inference.urls includes this with the "inference" namespace)."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.model_list, name="models"),
    path("versions/<int:pk>/", views.version_detail, name="version"),
    path("versions/<int:pk>/files/<slug:role>/", views.version_file, name="version-file"),
    path("versions/<int:pk>/promote/", views.version_promote, name="version-promote"),
    path("versions/<int:pk>/retire/", views.version_retire, name="version-retire"),
    path("train/segmentation/", views.segmentation_train, name="segmentation-train"),
    path("segment-cohort/", views.segment_cohort, name="segment-cohort"),
    path("train/classifier/", views.classifier_train, name="classifier-train"),
    path("jobs/<int:pk>/", views.model_job, name="job"),
    path("segmentations/<int:pk>/overlay/", views.overlay, name="overlay"),
    path("segmentations/<int:pk>/overlay/<int:z>.png", views.overlay_slice, name="overlay-slice"),
]
