"""Writes small CT DICOM series with identifying fields, so tests can check de-identification; and the
other objects a real study export holds (localizer, dose report), and exports as media write them
(extension-less names, DICOMDIR, nested zips)."""

import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileDataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import UID, CTImageStorage, ExplicitVRLittleEndian, generate_uid

IDENTIFIERS = {
    "PatientName": "Doe^Jane",
    "PatientID": "HOSP-123456",
    "PatientBirthDate": "19510203",
    "InstitutionName": "Saint Example Hospital",
    "ReferringPhysicianName": "House^Gregory",
}
XRAY_RADIATION_DOSE_SR = "1.2.840.10008.5.1.4.1.1.88.67"


def phantom_slices(size: tuple[int, int, int], seed: int) -> np.ndarray:
    """HU as (z, y, x): air around a soft-tissue block with noise, and a bright 'bone' rod whose place
    changes with z, so a slice put at the wrong height reads visibly wrong."""
    rng = np.random.default_rng(seed)
    nx, ny, nz = size
    hu = np.full((nz, ny, nx), -1000, dtype=np.int16)
    hu[:, 2 : ny - 2, 2 : nx - 2] = 40 + rng.integers(0, 40, (nz, ny - 4, nx - 4))
    for k in range(nz):
        x = 3 + (k * 3) % max(1, nx - 6)
        hu[k, ny // 2 - 1 : ny // 2 + 1, x : x + 2] = 900
    return hu


def _meta(sop_class: str, sop_uid: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = UID(sop_class)
    meta.MediaStorageSOPInstanceUID = UID(sop_uid)
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return meta


def _study_header(ds: Dataset, *, study_uid: str, identifiers: dict) -> None:
    for key, value in identifiers.items():
        setattr(ds, key, value)
    ds.PatientSex = "F"
    ds.StudyInstanceUID = study_uid
    ds.AcquisitionDate = ds.StudyDate = "20240315"
    ds.AcquisitionTime = ds.StudyTime = "101500"
    ds.StudyDescription, ds.StudyID, ds.AccessionNumber = "CT ABDOMEN", "1", "ACC-998877"


def write_ct_series(
    folder: Path,
    *,
    size=(16, 16, 16),
    spacing=(0.8, 0.8, 1.25),
    seed=0,
    series_uid=None,
    pixel_spacing=None,
    study_uid=None,
    image_type=("ORIGINAL", "PRIMARY", "AXIAL"),
    identifiers: dict | None = None,
    positions: Sequence[Sequence[float]] | None = None,
    orientation=(1, 0, 0, 0, 1, 0),
    name: Callable[[int], str] = lambda k: f"{k:03d}.dcm",
    series_number=3,
    description="1.25mm STND",
    hu: np.ndarray | None = None,
) -> Path:
    """One CT series, a file per slice. `positions` (mm, one per slice) overrides the regular stack."""
    folder.mkdir(parents=True, exist_ok=True)
    nx, ny, nz = size
    hu = phantom_slices(size, seed) if hu is None else hu
    series_uid = series_uid or generate_uid()
    study_uid = study_uid or generate_uid()
    frame_uid = generate_uid(entropy_srcs=[study_uid, "frame"])
    identifiers = IDENTIFIERS if identifiers is None else identifiers
    for k in range(len(positions) if positions is not None else nz):
        sop_uid = generate_uid()
        ds = FileDataset(
            str(folder / name(k)), {}, file_meta=_meta(CTImageStorage, sop_uid), preamble=b"\0" * 128
        )
        _study_header(ds, study_uid=study_uid, identifiers=identifiers)
        ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, sop_uid
        ds.SeriesInstanceUID, ds.FrameOfReferenceUID = series_uid, frame_uid
        ds.Modality, ds.SeriesNumber, ds.SeriesDescription = "CT", series_number, description
        if image_type:
            ds.ImageType = list(image_type)
        ds.Manufacturer, ds.ManufacturerModelName = "ExampleMed", "Revolution 256"
        ds.KVP = "120"
        ds.SliceThickness = str(spacing[2])
        ds.ImagePositionPatient = (
            list(positions[k]) if positions is not None else [-10.0, -8.0, 100.0 + k * spacing[2]]
        )
        ds.ImageOrientationPatient = list(orientation)
        ds.PixelSpacing = pixel_spacing if pixel_spacing is not None else [spacing[1], spacing[0]]
        ds.InstanceNumber = k + 1
        ds.Rows, ds.Columns = ny, nx
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
        ds.PixelData = (hu[k % hu.shape[0]].astype(np.int32) + 1024).astype("<i2").tobytes()
        ds.save_as(folder / name(k), enforce_file_format=True)
    return folder


def write_localizer(folder: Path, *, study_uid: str, name="LOC0001") -> Path:
    """A single-image scout with the LOCALIZER image type, as every CT study starts with."""
    write_ct_series(
        folder,
        size=(16, 16, 1),
        study_uid=study_uid,
        image_type=("ORIGINAL", "PRIMARY", "LOCALIZER"),
        orientation=(0, 1, 0, 0, 0, -1),
        name=lambda k: name,
        series_number=1,
        description="Topogram",
    )
    return folder / name


def _code(value: str, scheme: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = value, scheme, meaning
    return item


def write_dose_report(path: Path, *, study_uid: str, dlp_mgycm: float) -> Path:
    """A CT Radiation Dose SR (TID 10011) holding the accumulated DLP of the exam."""
    sop_uid = generate_uid()
    ds = FileDataset(str(path), {}, file_meta=_meta(XRAY_RADIATION_DOSE_SR, sop_uid), preamble=b"\0" * 128)
    _study_header(ds, study_uid=study_uid, identifiers=IDENTIFIERS)
    ds.SOPClassUID, ds.SOPInstanceUID = XRAY_RADIATION_DOSE_SR, sop_uid
    ds.SeriesInstanceUID, ds.Modality, ds.SeriesNumber = generate_uid(), "SR", 997
    ds.ValueType = "CONTAINER"
    ds.ConceptNameCodeSequence = DicomSequence([_code("113701", "DCM", "X-Ray Radiation Dose Report")])
    total = Dataset()
    total.RelationshipType, total.ValueType = "CONTAINS", "NUM"
    total.ConceptNameCodeSequence = DicomSequence([_code("113813", "DCM", "CT Dose Length Product Total")])
    measured = Dataset()
    measured.NumericValue = str(dlp_mgycm)
    measured.MeasurementUnitsCodeSequence = DicomSequence([_code("mGy.cm", "UCUM", "mGy.cm")])
    total.MeasuredValueSequence = DicomSequence([measured])
    accumulated = Dataset()
    accumulated.RelationshipType, accumulated.ValueType = "CONTAINS", "CONTAINER"
    accumulated.ConceptNameCodeSequence = DicomSequence([_code("113811", "DCM", "CT Accumulated Dose Data")])
    accumulated.ContentSequence = DicomSequence([total])
    ds.ContentSequence = DicomSequence([accumulated])
    ds.save_as(path, enforce_file_format=True)
    return path


def zip_folder(folder: Path, archive: Path) -> Path:
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            zf.write(path, f"series/{path.relative_to(folder)}")
    return archive


def imported_dicom_case(folder: Path, *, size=(20, 16, 16)):
    """A DICOM series imported through the platform; returns (case, its slice headers in z order)."""
    import pydicom

    from cases.services import case_import

    write_ct_series(folder, size=size, spacing=(0.9, 0.7, 2.0))
    headers = sorted(
        (pydicom.dcmread(p) for p in folder.iterdir()), key=lambda d: float(d.ImagePositionPatient[2])
    )
    return case_import(path=folder).case, headers


def two_femur_labels(case) -> np.ndarray:
    """Labels on the case grid (z, y, x): 1 on the patient's left (+x), 2 on the right."""
    labels = np.zeros((case.size[2], case.size[1], case.size[0]), np.uint8)
    labels[1:4, 3:8, case.size[0] - 7 : case.size[0] - 2] = 1
    labels[3:6, 5:11, 2:6] = 2
    return labels
