"""A synthetic case as a DICOM CT series: one file per slice, with the headers a scanner would write.

The headers deliberately carry fake but realistic identifiers (patient name, id, birth date, institution,
referring physician, accession number) so the platform's de-identification on import is exercised. UIDs
are derived from the cohort seed and case index, so the same seed writes the same bytes.
"""

import datetime as dt
from pathlib import Path

import numpy as np
import SimpleITK as sitk
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

FIRST_NAMES = (
    "Alice",
    "Bernard",
    "Chloe",
    "Dmitri",
    "Elena",
    "Farid",
    "Greta",
    "Hiro",
    "Ines",
    "Jonas",
    "Kamala",
    "Luca",
    "Mei",
    "Nils",
    "Olga",
    "Pavel",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
)
LAST_NAMES = (
    "Abbott",
    "Brenner",
    "Castillo",
    "Dubois",
    "Eriksen",
    "Fontaine",
    "Garber",
    "Haddad",
    "Ivanova",
    "Jansen",
    "Kowalski",
    "Lindqvist",
    "Moreau",
    "Novak",
    "Okafor",
    "Petrov",
)
INSTITUTIONS = ("Synthetic General Hospital", "Phantom Valley Medical Centre", "Northgate Imaging Clinic")
PHYSICIANS = ("Doe^Jane^^Dr", "Roe^Richard^^Dr", "Smith^Anna^^Dr", "Khan^Omar^^Dr")
RESCALE_INTERCEPT = -1024  # stored value = HU + 1024, as many scanners store CT
PRIVATE_GROUP = 0x0011
PRIVATE_CREATOR = "OSTEOSCREEN PHANTOM"
# Where the dose lives: CTDIvol in its standard attribute (0018,9345); DLP, which a single CT image has no
# standard attribute for, in ImageComments as several vendors do and in a private element (0011,1001), and
# as real scanners report it: in a CT Radiation Dose SR (RDSR, TID 10011) beside the series.
XRAY_RADIATION_DOSE_SR = "1.2.840.10008.5.1.4.1.1.88.67"


def fake_identity(rng: np.random.Generator, case: dict) -> dict:
    """Made-up identifiers in the shape real ones have; consistent with the case's sex and birth year."""
    birth = dt.date(case["birth_year"], int(rng.integers(1, 13)), int(rng.integers(1, 29)))
    return {
        "PatientName": f"{LAST_NAMES[rng.integers(len(LAST_NAMES))]}^{FIRST_NAMES[rng.integers(len(FIRST_NAMES))]}",
        "PatientID": f"MRN{rng.integers(10**7, 10**8)}",
        "PatientBirthDate": birth.strftime("%Y%m%d"),
        "InstitutionName": INSTITUTIONS[rng.integers(len(INSTITUTIONS))],
        "ReferringPhysicianName": PHYSICIANS[rng.integers(len(PHYSICIANS))],
        "AccessionNumber": f"ACC{rng.integers(10**6, 10**7)}",
    }


def _uid(seed: int, index: int, *parts) -> str:
    return generate_uid(entropy_srcs=["osteoscreen-phantom", str(seed), str(index), *map(str, parts)])


def _series_header(case: dict, identity: dict, image: sitk.Image, seed: int, index: int) -> Dataset:
    exam = dt.datetime.fromisoformat(case["exam_datetime"])
    ds = Dataset()
    ds.update({k: v for k, v in identity.items()})
    ds.PatientSex = case["sex"]
    ds.PatientAge = f"{case['age']:03d}Y"
    ds.StudyInstanceUID = _uid(seed, index, "study")
    ds.SeriesInstanceUID = _uid(seed, index, "series")
    ds.FrameOfReferenceUID = _uid(seed, index, "frame")
    ds.SOPClassUID = CTImageStorage
    ds.Modality = "CT"
    ds.Manufacturer, ds.ManufacturerModelName = case["manufacturer"], case["scanner_model"]
    for prefix in ("Study", "Series", "Acquisition", "Content"):
        setattr(ds, f"{prefix}Date", exam.strftime("%Y%m%d"))
        setattr(ds, f"{prefix}Time", exam.strftime("%H%M%S"))
    ds.StudyID, ds.SeriesNumber, ds.StudyDescription = "1", 3, "CT ABDOMEN PELVIS LOW DOSE"
    ds.SeriesDescription = "1.25mm STND"
    ds.BodyPartExamined, ds.PatientPosition = "PELVIS", "HFS"
    ds.KVP = case["kvp"]
    ds.SliceThickness = case["slice_thickness_mm"]
    ds.SpacingBetweenSlices = image.GetSpacing()[2]
    ds.ConvolutionKernel = "STANDARD"
    ds.ReconstructionDiameter = round(image.GetSpacing()[0] * image.GetSize()[0], 1)
    ds.CTDIvol = case["ctdi_vol_mgy"]
    ds.ImageComments = f"DLP {case['dlp_mgycm']} mGy*cm"
    ds.private_block(PRIVATE_GROUP, PRIVATE_CREATOR, create=True).add_new(0x01, "DS", str(case["dlp_mgycm"]))
    ds.PixelSpacing = [image.GetSpacing()[1], image.GetSpacing()[0]]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.Rows, ds.Columns = image.GetSize()[1], image.GetSize()[0]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = RESCALE_INTERCEPT, 1, "HU"
    ds.WindowCenter, ds.WindowWidth = 40, 400
    return ds


def write_series(
    image: sitk.Image, case: dict, identity: dict, folder: Path, *, seed: int, index: int
) -> int:
    """Write one file per axial slice into `folder`; returns the number of files."""
    folder.mkdir(parents=True, exist_ok=True)
    header = _series_header(case, identity, image, seed, index)
    pixels = sitk.GetArrayViewFromImage(image)
    origin, dz = image.GetOrigin(), image.GetSpacing()[2]
    for k in range(pixels.shape[0]):
        ds = Dataset()
        ds.update(header)
        ds.SOPInstanceUID = _uid(seed, index, "slice", k)
        ds.InstanceNumber = k + 1
        z = round(origin[2] + k * dz, 4)
        ds.ImagePositionPatient = [round(origin[0], 4), round(origin[1], 4), z]
        ds.SliceLocation = z
        ds.PixelData = (pixels[k].astype(np.int32) - RESCALE_INTERCEPT).astype("<i2").tobytes()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.save_as(folder / f"CT{k + 1:04d}.dcm", enforce_file_format=True)
    return pixels.shape[0]


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def _dlp_total(dlp_mgycm: float) -> Dataset:
    total = Dataset()
    total.RelationshipType, total.ValueType = "CONTAINS", "NUM"
    total.ConceptNameCodeSequence = [_code("113813", "DCM", "CT Dose Length Product Total")]
    measured = Dataset()
    measured.NumericValue = f"{dlp_mgycm:.2f}"
    measured.MeasurementUnitsCodeSequence = [_code("mGy.cm", "UCUM", "mGy.cm")]
    total.MeasuredValueSequence = [measured]
    accumulated = Dataset()
    accumulated.RelationshipType, accumulated.ValueType = "CONTAINS", "CONTAINER"
    accumulated.ConceptNameCodeSequence = [_code("113811", "DCM", "CT Accumulated Dose Data")]
    accumulated.ContentSequence = [total]
    return accumulated


def write_dose_report(case: dict, identity: dict, folder: Path, *, seed: int, index: int) -> Path:
    """The exam's CT Radiation Dose SR (only the accumulated DLP of TID 10011), named without an extension
    as media exports name their files."""
    exam = dt.datetime.fromisoformat(case["exam_datetime"])
    ds = Dataset()
    ds.update(dict(identity.items()))
    ds.PatientSex = case["sex"]
    ds.StudyInstanceUID = _uid(seed, index, "study")
    ds.SeriesInstanceUID = _uid(seed, index, "dose-series")
    ds.SOPInstanceUID = _uid(seed, index, "dose-report")
    ds.SOPClassUID, ds.Modality, ds.SeriesNumber = XRAY_RADIATION_DOSE_SR, "SR", 997
    ds.StudyDate, ds.StudyTime = exam.strftime("%Y%m%d"), exam.strftime("%H%M%S")
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = [_code("113701", "DCM", "X-Ray Radiation Dose Report")]
    ds.ContentSequence = [_dlp_total(float(case["dlp_mgycm"]))]
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    path = folder / "SR000001"
    ds.save_as(path, enforce_file_format=True)
    return path
