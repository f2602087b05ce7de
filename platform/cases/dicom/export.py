"""Results back as DICOM: a proximal-femur VOI as a Segmentation, the screening result as a TID 1500
measurement report. Both reference the source series by its original UIDs (from the sealed source
record), so a PACS files them with the study and a DICOM viewer lays the SEG over the source slices.

Label contract: 0 background, 1 the patient's LEFT proximal femur (+x in LPS), 2 the right. The SEG's
frames are the source slices themselves: each source pixel takes the label of the canonical voxel at
its place in the patient (nearest voxel), so on the source grid the SEG holds exactly the platform's
mask, whatever orientation the source had.
"""

import datetime as dt
from dataclasses import dataclass

import highdicom as hd
import numpy as np
import pydicom
import SimpleITK as sitk
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.uid import CTImageStorage

MANUFACTURER = "OsteoScreen"
SOFTWARE_VERSION = "1"
# SNOMED CT: "Bone structure of femur" with laterality, under the category "Anatomical structure".
FEMUR = Code("71341001", "SCT", "Femur")
ANATOMICAL_STRUCTURE = Code("91723000", "SCT", "Anatomical Structure")
LATERALITY = {1: Code("7771000", "SCT", "Left"), 2: Code("24028007", "SCT", "Right")}
SIDE_NAMES = {1: "left", 2: "right"}
# Display colours of the viewer's labels (CIELab of red and blue).
SEGMENT_COLOURS = {1: hd.color.CIELabColor(53.2, 80.1, 67.2), 2: hd.color.CIELabColor(32.3, 79.2, -107.9)}
# Bone status and the probability of each class: SNOMED CT findings, and local codes (a "99" scheme, as
# DICOM PS3.16 allows) for what no standard code names.
CLASS_CODES = {
    "normal": Code("17621005", "SCT", "Normal"),
    "osteopenia": Code("312894000", "SCT", "Osteopenia"),
    "osteoporosis": Code("64859006", "SCT", "Osteoporosis"),
}
LOCAL_SCHEME = "99OSTEOSCREEN"
PREDICTED_STATUS = Code("BONE-STATUS", LOCAL_SCHEME, "Predicted bone status")
NO_UNITS = Code("1", "UCUM", "no units")
CT_PROCEDURE = Code("25045-6", "LN", "CT unspecified body region")


class SourceMissing(ValueError):
    """The case holds no usable source series to reference."""


def source_images(source: dict) -> list[pydicom.Dataset]:
    """Stand-ins for the source slices: the attributes a SEG/SR copies or references, nothing else
    (no pixels, no name, no birth date)."""
    if not source.get("slices") or not source.get("study_uid") or not source.get("series_uid"):
        raise SourceMissing("the case's source series lacks the UIDs an export must reference")
    images = []
    for number, item in enumerate(source["slices"], start=1):
        ds = pydicom.Dataset()
        ds.PatientID, ds.PatientName, ds.PatientBirthDate = source["patient_id"], "", ""
        ds.PatientSex = source.get("patient_sex", "")
        ds.StudyInstanceUID, ds.SeriesInstanceUID = source["study_uid"], source["series_uid"]
        ds.StudyDate, ds.StudyTime = source.get("study_date", ""), source.get("study_time", "")
        ds.StudyID, ds.AccessionNumber = source.get("study_id", ""), source.get("accession_number", "")
        ds.ReferringPhysicianName = ""
        ds.FrameOfReferenceUID = source.get("frame_of_reference_uid") or hd.UID()
        ds.SOPClassUID = source.get("sop_class_uid") or CTImageStorage
        ds.SOPInstanceUID, ds.InstanceNumber, ds.Modality = item["uid"], number, "CT"
        ds.ImagePositionPatient, ds.ImageOrientationPatient = item["position"], source["orientation"]
        ds.PixelSpacing, ds.SliceThickness = source["pixel_spacing"], source["slice_thickness"]
        ds.Rows, ds.Columns = source["rows"], source["columns"]
        ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.BitsAllocated = 1, "MONOCHROME2", 16
        images.append(ds)
    return images


def labels_on_source_slices(labels: sitk.Image, source: dict) -> np.ndarray:
    """(slices, rows, columns) uint8: each source pixel takes the label of the canonical voxel nearest to
    its place in the patient; pixels outside the canonical grid are background."""
    values = sitk.GetArrayViewFromImage(labels)  # (z, y, x)
    origin = np.asarray(labels.GetOrigin())
    to_index = np.asarray(labels.GetDirection()).reshape(3, 3).T / np.asarray(labels.GetSpacing())[:, None]
    row, column = np.asarray(source["orientation"][:3]), np.asarray(source["orientation"][3:])
    r, c = np.meshgrid(np.arange(source["rows"]), np.arange(source["columns"]), indexing="ij")
    in_plane = (
        c[..., None] * source["pixel_spacing"][1] * row + r[..., None] * source["pixel_spacing"][0] * column
    )
    out = np.zeros((len(source["slices"]), source["rows"], source["columns"]), dtype=np.uint8)
    size = np.asarray(labels.GetSize())
    for k, item in enumerate(source["slices"]):
        index = np.rint((np.asarray(item["position"]) + in_plane - origin) @ to_index.T).astype(np.int64)
        inside = np.all((index >= 0) & (index < size), axis=-1)
        out[k][inside] = values[index[inside][:, 2], index[inside][:, 1], index[inside][:, 0]]
    return out


def _segment(number: int, *, manual: bool, algorithm: hd.AlgorithmIdentificationSequence | None):
    description = hd.seg.SegmentDescription(
        segment_number=number,
        segment_label=f"{SIDE_NAMES[number].capitalize()} proximal femur",
        segmented_property_category=ANATOMICAL_STRUCTURE,
        segmented_property_type=FEMUR,
        algorithm_type=hd.seg.SegmentAlgorithmTypeValues.MANUAL
        if manual
        else hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
        algorithm_identification=None if manual else algorithm,
        tracking_id=f"{SIDE_NAMES[number]} proximal femur",
        tracking_uid=hd.UID(),
        display_color=SEGMENT_COLOURS[number],
    )
    description.SegmentedPropertyTypeModifierCodeSequence = [hd.sr.CodedConcept.from_code(LATERALITY[number])]
    return description


@dataclass(frozen=True)
class Producer:
    """Who made a VOI: a reader (manual) or a model version (automatic)."""

    manual: bool
    name: str  # "reader VOI", or the model's name
    version: str = ""


def segmentation(
    labels: sitk.Image, *, source: dict, producer: Producer, description: str
) -> hd.seg.Segmentation:
    """The VOI as a DICOM Segmentation with two segments (left, right proximal femur) on the source slices."""
    images = source_images(source)
    frames = labels_on_source_slices(labels, source)
    algorithm = (
        None
        if producer.manual
        else hd.AlgorithmIdentificationSequence(
            name=producer.name[:64],
            family=codes.cid7162.ArtificialIntelligence,
            version=producer.version[:64] or "1",
        )
    )
    return hd.seg.Segmentation(
        source_images=images,
        pixel_array=frames,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=[_segment(n, manual=producer.manual, algorithm=algorithm) for n in (1, 2)],
        series_instance_uid=hd.UID(),
        series_number=900,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        manufacturer_model_name=MANUFACTURER,
        software_versions=SOFTWARE_VERSION,
        device_serial_number="0",
        series_description=description[:64],
        content_label="FEMUR_VOI",
        content_description=description[:64],
        omit_empty_frames=False,
    )


@dataclass(frozen=True)
class SideResult:
    side: int  # 1 left, 2 right
    volume_cm3: float
    mean_hu: float | None


def side_results(volume: sitk.Image, labels: sitk.Image) -> list[SideResult]:
    """Volume and mean HU of each side's VOI, on the canonical grid."""
    hu = sitk.GetArrayViewFromImage(volume)
    mask = sitk.GetArrayViewFromImage(labels)
    voxel_cm3 = float(np.prod(labels.GetSpacing())) / 1000.0
    results = []
    for side in (1, 2):
        inside = mask == side
        count = int(inside.sum())
        results.append(
            SideResult(
                side=side, volume_cm3=count * voxel_cm3, mean_hu=float(hu[inside].mean()) if count else None
            )
        )
    return results


def _probability_code(name: str) -> Code:
    return Code(f"P-{name.upper()}"[:16], LOCAL_SCHEME, f"Probability of {name}")


def _side_group(
    result: SideResult, *, algorithm: hd.sr.AlgorithmIdentification
) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    site = hd.sr.FindingSite(anatomic_location=FEMUR, laterality=LATERALITY[result.side])
    measurements = [
        hd.sr.Measurement(
            name=codes.SCT.Volume,
            value=round(result.volume_cm3, 3),
            unit=codes.UCUM.CubicCentimeter,
            algorithm_id=algorithm,
        )
    ]
    if result.mean_hu is not None:
        measurements.append(
            hd.sr.Measurement(
                name=Code("112031", "DCM", "Attenuation Coefficient"),
                value=round(result.mean_hu, 2),
                unit=codes.UCUM.HounsfieldUnit,
                derivation=codes.SCT.Mean,
                algorithm_id=algorithm,
            )
        )
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(
            uid=hd.UID(), identifier=f"{SIDE_NAMES[result.side]} proximal femur"
        ),
        finding_type=FEMUR,
        finding_sites=[site],
        measurements=measurements,
        algorithm_id=algorithm,
    )


def _status_group(
    probabilities: dict[str, float], predicted: str, *, algorithm
) -> hd.sr.MeasurementsAndQualitativeEvaluations:
    measurements = [
        hd.sr.Measurement(
            name=_probability_code(name), value=round(float(p), 6), unit=NO_UNITS, algorithm_id=algorithm
        )
        for name, p in probabilities.items()
    ]
    evaluations = (
        [hd.sr.QualitativeEvaluation(name=PREDICTED_STATUS, value=CLASS_CODES[predicted])]
        if predicted in CLASS_CODES
        else []
    )
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier="bone status"),
        finding_type=Code("BONE-STATUS", LOCAL_SCHEME, "Bone status"),
        measurements=measurements,
        qualitative_evaluations=evaluations,
        algorithm_id=algorithm,
    )


@dataclass(frozen=True)
class ScreeningResult:
    sides: list[SideResult]
    probabilities: dict[str, float]
    predicted_class: str
    model_name: str
    model_version: str


def screening_report(result: ScreeningResult, *, source: dict) -> hd.sr.Comprehensive3DSR:
    """The screening result as a TID 1500 measurement report: per side volume and mean HU, the class
    probabilities, the predicted class, and the model version that made them."""
    algorithm = hd.sr.AlgorithmIdentification(
        name=result.model_name[:64], version=result.model_version[:64] or "1"
    )
    device = hd.sr.ObserverContext(
        observer_type=codes.DCM.Device,
        observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
            uid=hd.UID(),
            name=MANUFACTURER,
            manufacturer_name=MANUFACTURER,
            model_name=f"{result.model_name} {result.model_version}"[:64],
        ),
    )
    report = hd.sr.MeasurementReport(
        observation_context=hd.sr.ObservationContext(observer_device_context=device),
        procedure_reported=CT_PROCEDURE,
        imaging_measurements=[_side_group(s, algorithm=algorithm) for s in result.sides]
        + [_status_group(result.probabilities, result.predicted_class, algorithm=algorithm)],
    )
    now = dt.datetime.now(dt.UTC)
    return hd.sr.Comprehensive3DSR(
        evidence=source_images(source),
        content=report,
        series_instance_uid=hd.UID(),
        series_number=901,
        sop_instance_uid=hd.UID(),
        instance_number=1,
        manufacturer=MANUFACTURER,
        is_complete=True,
        series_description="OsteoScreen screening result",
        content_date=now.strftime("%Y%m%d"),
        content_time=now.strftime("%H%M%S"),
    )
