"""A model's predicted VOI downloads as a DICOM SEG (automatic, with the model named) and its screening
result as a TID 1500 SR with per side volume and mean HU, the class probabilities and the model version;
both go to the PACS by STOW-RS and read back there."""

import io

import highdicom as hd
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk
from django.core.files.base import ContentFile

from inference.models import ModelVersion, Prediction, SegmentationPrediction

from dicom_helpers import imported_dicom_case, two_femur_labels

pytest_plugins = ["orthanc_fixtures"]


@pytest.fixture
def predicted(tmp_path, db):
    case, headers = imported_dicom_case(tmp_path / "ct")
    labels = two_femur_labels(case)
    mask = sitk.GetImageFromArray(labels)
    mask.CopyInformation(sitk.ReadImage(case.volume.path))
    sitk.WriteImage(mask, str(tmp_path / "mask.nii.gz"))
    segmenter = ModelVersion.objects.create(family="segmentation", number=3, status="active")
    classifier = ModelVersion.objects.create(family="classifier", number=5, status="active", parent=segmenter)
    segmentation = SegmentationPrediction(case=case, model_version=segmenter, mask_sha256="a" * 64)
    segmentation.mask.save("mask.nii.gz", ContentFile((tmp_path / "mask.nii.gz").read_bytes()))
    prediction = Prediction.objects.create(
        case=case,
        model_version=classifier,
        segmentation=segmentation,
        mask_source="prediction",
        predicted_class="osteoporosis",
        probabilities={"normal": 0.1, "osteopenia": 0.3, "osteoporosis": 0.6},
    )
    return case, headers, labels, segmentation, prediction


def _numbers(sr) -> dict[str, float]:
    values = {}

    def walk(items, group=""):
        for item in items:
            if item.ValueType == "TEXT" and item.ConceptNameCodeSequence[0].CodeValue == "112039":
                group = item.TextValue
            if item.ValueType == "NUM":
                values[f"{group}/{item.ConceptNameCodeSequence[0].CodeMeaning}"] = float(
                    item.MeasuredValueSequence[0].NumericValue
                )
            if "ContentSequence" in item:
                walk(item.ContentSequence, group)

    walk(sr.ContentSequence)
    return values


def test_the_predicted_voi_downloads_as_an_automatic_seg(api_client, pi, predicted):
    case, headers, labels, segmentation, _ = predicted
    api_client.force_authenticate(pi)
    response = api_client.get(f"/api/segmentations/{segmentation.pk}/seg.dcm")
    assert response.status_code == 200, response.content[:300]
    seg = hd.seg.segread(io.BytesIO(response.content))
    frames = seg.get_pixels_by_source_instance([h.SOPInstanceUID for h in headers], combine_segments=True)
    assert np.array_equal(frames, labels)
    assert seg.SegmentSequence[0].SegmentAlgorithmType == "AUTOMATIC"
    assert seg.SegmentSequence[0].SegmentationAlgorithmIdentificationSequence[0].AlgorithmVersion == "3"


def test_the_screening_result_downloads_as_a_measurement_report(api_client, coordinator, predicted):
    case, headers, labels, _, prediction = predicted
    api_client.force_authenticate(coordinator)
    response = api_client.get(f"/api/predictions/{prediction.pk}/sr.dcm")
    assert response.status_code == 200, response.content[:300]
    sr = pydicom.dcmread(io.BytesIO(response.content))
    assert sr.StudyInstanceUID == headers[0].StudyInstanceUID
    assert sr.ContentTemplateSequence[0].TemplateIdentifier == "1500"
    values = _numbers(sr)
    voxel_cm3 = float(np.prod(case.spacing)) / 1000
    assert values["left proximal femur/Volume"] == pytest.approx((labels == 1).sum() * voxel_cm3, abs=1e-3)
    hu = sitk.GetArrayFromImage(sitk.ReadImage(case.volume.path))
    assert values["right proximal femur/Attenuation Coefficient"] == pytest.approx(
        hu[labels == 2].mean(), abs=0.01
    )
    assert values["bone status/Probability of osteoporosis"] == pytest.approx(0.6)
    assert b"OsteoScreen classifier 5" in response.content  # the device observer: model and version


def test_seg_and_sr_go_to_the_pacs_and_read_back(api_client, coordinator, predicted, orthanc):
    case, headers, labels, segmentation, prediction = predicted
    api_client.force_authenticate(coordinator)
    for url in (
        f"/api/segmentations/{segmentation.pk}/seg/send/",
        f"/api/predictions/{prediction.pk}/sr/send/",
    ):
        response = api_client.post(url, {"pacs": "test-pacs"}, format="json")
        assert response.status_code == 200, response.json()
        assert "pacs-secret" not in response.content.decode()
    client = orthanc.client()
    stored = {d.Modality: d for d in client.retrieve_study(headers[0].StudyInstanceUID)}
    frames = hd.seg.Segmentation.from_dataset(stored["SEG"]).get_pixels_by_source_instance(
        [h.SOPInstanceUID for h in headers], combine_segments=True
    )
    assert np.array_equal(frames, labels)
    assert _numbers(stored["SR"])["bone status/Probability of normal"] == pytest.approx(0.1)


def test_the_case_page_links_the_dicom_exports(client, pi, predicted):
    case, _, _, segmentation, prediction = predicted
    client.force_login(pi)
    html = client.get(f"/cases/{case.pk}/").content.decode()
    assert (
        f"/api/segmentations/{segmentation.pk}/seg.dcm" in html
        and f"/api/predictions/{prediction.pk}/sr.dcm" in html
    )
