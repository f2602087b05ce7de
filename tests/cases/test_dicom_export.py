"""A VOI exports as a DICOM Segmentation on the source slices and the screening result as a TID 1500 SR;
both reference the source series by its original UIDs and read back right, from a file and from a real
Orthanc that received them by STOW-RS."""

import io

import highdicom as hd
import numpy as np
import pydicom
import pytest
import SimpleITK as sitk

from cases import exports
from cases.dicom.export import Producer
from cases.services import case_import

from dicom_helpers import write_ct_series

pytest_plugins = ["orthanc_fixtures"]


@pytest.fixture
def flipped_study(tmp_path, db):
    """A series whose rows run to the patient's right and whose slices go down: canonical LPS flips both
    x and z, so a SEG written on the canonical grid instead of the source slices would be mirrored."""
    folder = write_ct_series(
        tmp_path / "src",
        size=(20, 16, 16),
        spacing=(0.9, 0.7, 2.0),
        orientation=(-1, 0, 0, 0, 1, 0),
        name=lambda k: f"IM{k}",
    )
    headers = sorted(
        (pydicom.dcmread(p) for p in folder.iterdir()), key=lambda d: -float(d.ImagePositionPatient[2])
    )
    case = case_import(path=folder).case
    return case, headers, folder


def platform_mask(case, path):
    """Label 1 on the patient's left (+x in LPS), label 2 on the right, different heights: any flip shows."""
    image = sitk.ReadImage(case.volume.path)
    labels = np.zeros(sitk.GetArrayFromImage(image).shape, np.uint8)  # (z, y, x), LPS
    labels[1:4, 3:8, 12:17] = 1  # larger x: the patient's left
    labels[3:6, 5:11, 2:6] = 2
    mask = sitk.GetImageFromArray(labels)
    mask.CopyInformation(image)
    sitk.WriteImage(mask, str(path))
    return labels


def source_slices_expected(labels):
    # Source slice k lies at the k-th height going down (canonical z reversed), its columns run along -x.
    return labels[::-1, :, ::-1]


def test_the_seg_read_back_holds_the_platform_mask_on_the_source_slices(flipped_study, tmp_path):
    case, headers, _ = flipped_study
    labels = platform_mask(case, tmp_path / "mask.nii.gz")
    data = exports.voi_segmentation_bytes(
        case=case,
        labels_path=tmp_path / "mask.nii.gz",
        producer=Producer(manual=True, name="reader VOI"),
        description="reference VOI",
    )
    seg = hd.seg.segread(io.BytesIO(data))
    assert seg.StudyInstanceUID == headers[0].StudyInstanceUID
    assert seg.ReferencedSeriesSequence[0].SeriesInstanceUID == headers[0].SeriesInstanceUID
    assert seg.PatientID == headers[0].PatientID and str(seg.PatientName) == ""
    frames = seg.get_pixels_by_source_instance([h.SOPInstanceUID for h in headers], combine_segments=True)
    assert np.array_equal(frames, source_slices_expected(labels))
    segments = {s.SegmentNumber: s for s in seg.SegmentSequence}
    assert (
        segments[1].SegmentLabel == "Left proximal femur"
        and segments[2].SegmentLabel == "Right proximal femur"
    )
    assert segments[1].SegmentedPropertyTypeCodeSequence[0].CodeValue == "71341001"
    assert segments[1].SegmentedPropertyTypeModifierCodeSequence[0].CodeValue == "7771000"  # left
    assert segments[2].SegmentedPropertyTypeModifierCodeSequence[0].CodeValue == "24028007"  # right
    assert segments[1].SegmentAlgorithmType == "MANUAL"


def test_a_case_not_imported_from_dicom_cannot_be_exported(make_case, tmp_path):
    case = make_case()
    with pytest.raises(exports.ExportUnavailable, match="not imported from DICOM"):
        exports.case_source(case)


def _sr_values(sr) -> dict[str, float]:
    values = {}
    for group in sr.ContentSequence[-1].ContentSequence:
        if getattr(group, "ValueType", "") != "CONTAINER":
            continue
        name = next(
            (
                i.TextValue
                for i in group.ContentSequence
                if i.ConceptNameCodeSequence[0].CodeValue == "112039"
            ),
            "",
        )
        for item in group.ContentSequence:
            if item.ValueType == "NUM":
                values[f"{name}/{item.ConceptNameCodeSequence[0].CodeMeaning}"] = float(
                    item.MeasuredValueSequence[0].NumericValue
                )
    return values


def test_seg_and_sr_sent_to_the_pacs_join_the_source_study_and_read_back(flipped_study, tmp_path, orthanc):
    case, headers, folder = flipped_study
    client = orthanc.client()
    client.store_instances([pydicom.dcmread(p) for p in sorted(folder.iterdir())])
    labels = platform_mask(case, tmp_path / "mask.nii.gz")
    seg = exports.voi_segmentation(
        case=case,
        labels_path=tmp_path / "mask.nii.gz",
        producer=Producer(manual=False, name="vbnet-cascade", version="7"),
        description="model VOI",
    )
    sr = exports.screening_report(
        case=case,
        labels_path=tmp_path / "mask.nii.gz",
        predicted_class="osteopenia",
        probabilities={"normal": 0.25, "osteopenia": 0.6, "osteoporosis": 0.15},
        model_name="radiomics-rf",
        model_version="4",
    )
    exports.dicom_send(case=case, dataset=seg, pacs_name="test-pacs", what="SEG")
    exports.dicom_send(case=case, dataset=sr, pacs_name="test-pacs", what="SR")

    assert len(orthanc.get("/studies")) == 1  # the results joined the source study
    stored = client.retrieve_study(headers[0].StudyInstanceUID)
    by_modality: dict[str, list] = {}
    for dataset in stored:
        by_modality.setdefault(dataset.Modality, []).append(dataset)
    assert len(by_modality["CT"]) == 16
    seg_back = hd.seg.Segmentation.from_dataset(by_modality["SEG"][0])
    frames = seg_back.get_pixels_by_source_instance(
        [h.SOPInstanceUID for h in headers], combine_segments=True
    )
    assert np.array_equal(frames, source_slices_expected(labels))

    values = _sr_values(by_modality["SR"][0])
    voxel_cm3 = float(np.prod(case.spacing)) / 1000
    assert values["left proximal femur/Volume"] == pytest.approx((labels == 1).sum() * voxel_cm3, abs=1e-3)
    assert values["right proximal femur/Volume"] == pytest.approx((labels == 2).sum() * voxel_cm3, abs=1e-3)
    hu = sitk.GetArrayFromImage(sitk.ReadImage(case.volume.path))
    assert values["left proximal femur/Attenuation Coefficient"] == pytest.approx(
        hu[labels == 1].mean(), abs=0.01
    )
    assert values["bone status/Probability of osteopenia"] == pytest.approx(0.6)
    sr_back = by_modality["SR"][0]
    assert sr_back.StudyInstanceUID == headers[0].StudyInstanceUID
    assert "radiomics-rf 4" in str(sr_back.ContentSequence)
