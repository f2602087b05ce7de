from django.urls import include, path

from . import dicom_apis

urlpatterns = [
    path("segmentations/<int:pk>/seg.dcm", dicom_apis.SegmentationSegApi.as_view(), name="api-segmentation-seg"),
    path("segmentations/<int:pk>/seg/send/", dicom_apis.SegmentationSegSendApi.as_view(),
         name="api-segmentation-seg-send"),
    path("predictions/<int:pk>/sr.dcm", dicom_apis.PredictionSrApi.as_view(), name="api-prediction-sr"),
    path("predictions/<int:pk>/sr/send/", dicom_apis.PredictionSrSendApi.as_view(), name="api-prediction-sr-send"),
    path("", include("inference.model_api_urls")),
    path("", include("inference.dashboard_api_urls")),
]
