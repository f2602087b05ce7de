"""A model's results as DICOM: its predicted VOI as a Segmentation, the screening result as a TID 1500
measurement report; downloaded (coordinators, PIs, admins) or sent to a PACS."""

from pathlib import Path

from django.shortcuts import get_object_or_404

from cases.dicom.export import Producer
from cases.dicom_apis import DicomObjectApi, DicomSendApi
from cases.exports import ExportUnavailable, screening_report, voi_segmentation
from inference.models import FeatureVector, Prediction, SegmentationPrediction
from inference.selectors import current_reference_voi


class SegmentationSegApi(DicomObjectApi):
    """A segmentation model's predicted VOI of a case as a DICOM SEG."""

    kind = "SEG"

    def dicom_object(self, request, pk: int):
        prediction = get_object_or_404(
            SegmentationPrediction.objects.select_related("case", "model_version"), pk=pk
        )
        version = prediction.model_version
        return prediction.case, voi_segmentation(
            case=prediction.case,
            labels_path=Path(prediction.mask.path),
            producer=Producer(
                manual=False, name=f"OsteoScreen {version.family}", version=str(version.number)
            ),
            description=f"Predicted VOI ({version})",
        )


def _mask_path(prediction: Prediction) -> Path:
    """The VOI the classifier read for this prediction."""
    if prediction.segmentation is not None:
        return Path(prediction.segmentation.mask.path)
    if prediction.mask_source == FeatureVector.MaskSource.REFERENCE:
        reference = current_reference_voi(prediction.case)
        if reference is not None:
            return Path(reference.revision.labelmap.path)
    raise ExportUnavailable(
        "the VOI this prediction read is no longer at hand; no measurement report can be written"
    )


class PredictionSrApi(DicomObjectApi):
    """The screening result (per side volume and mean HU, class probabilities, model version) as a DICOM SR."""

    kind = "SR"

    def dicom_object(self, request, pk: int):
        prediction = get_object_or_404(
            Prediction.objects.select_related("case", "model_version", "segmentation"), pk=pk
        )
        version = prediction.model_version
        return prediction.case, screening_report(
            case=prediction.case,
            labels_path=_mask_path(prediction),
            probabilities=prediction.probabilities,
            predicted_class=prediction.predicted_class,
            model_name=f"OsteoScreen {version.family}",
            model_version=str(version.number),
        )


class SegmentationSegSendApi(DicomSendApi):
    object_api = SegmentationSegApi


class PredictionSrSendApi(DicomSendApi):
    object_api = PredictionSrApi
