"""Reading CT volumes into the canonical form: int16 HU, SimpleITK "LPS" orientation, no identifiers.

Plain SimpleITK / pydicom; no Django models here, only the settings-driven checks of validation.py.
"""

import datetime as dt
import hashlib
import hmac
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pydicom
import SimpleITK as sitk

from voi.grid import CANONICAL_ORIENTATION

from .validation import (
    ImportRejected,
    check_dimensions,
    check_direction,
    check_finite,
    check_hu_range,
    check_nifti_header,
    check_nifti_payload,
    check_spacing,
)


@dataclass
class CanonicalVolume:
    image: sitk.Image
    series_uid_hash: str = ""
    metadata: dict = field(default_factory=dict)


def canonicalise(image: sitk.Image, *, where: str = "") -> sitk.Image:
    """Reorients to LPS and rounds to int16 HU (clipped to the int16 range)."""
    check_dimensions(image.GetSize(), where=where)
    check_spacing(image.GetSpacing(), where=where)
    check_direction(image.GetDirection(), where=where)
    check_finite(sitk.GetArrayViewFromImage(image), where=where)
    image = sitk.DICOMOrient(image, CANONICAL_ORIENTATION)
    stats = sitk.MinimumMaximumImageFilter()
    stats.Execute(image)
    check_hu_range(stats.GetMinimum(), stats.GetMaximum(), where=where)
    if image.GetPixelID() != sitk.sitkInt16:
        image = sitk.Cast(
            sitk.Clamp(sitk.Round(sitk.Cast(image, sitk.sitkFloat32)), sitk.sitkFloat32, -32768, 32767),
            sitk.sitkInt16,
        )
    for key in image.GetMetaDataKeys():  # nothing of the source header travels into our files
        image.EraseMetaData(key)
    return image


def read_nifti(path: Path) -> CanonicalVolume:
    check_nifti_payload(path, check_nifti_header(path))
    try:
        image = sitk.ReadImage(str(path))
    except RuntimeError as exc:
        raise ImportRejected(
            f"{path.name} could not be read as an image: {str(exc).splitlines()[0][:200]}"
        ) from exc
    return CanonicalVolume(image=canonicalise(image, where=f"{path.name}: "))


def pseudonym(value: str, *, key: str, prefix: str) -> str:
    """A stable keyed hash: the same identifier always maps to the same pseudonym, and it cannot be reversed."""
    digest = hmac.new(key.encode(), value.encode(), hashlib.sha256).hexdigest()
    return f"{prefix}{digest[:16]}"


def _dicom_datetime(ds: pydicom.Dataset) -> dt.datetime | None:
    for date_tag, time_tag in (
        ("AcquisitionDate", "AcquisitionTime"),
        ("SeriesDate", "SeriesTime"),
        ("StudyDate", "StudyTime"),
    ):
        date = str(ds.get(date_tag, "") or "")
        if len(date) == 8 and date.isdigit():
            time = str(ds.get(time_tag, "") or "000000").split(".")[0].ljust(6, "0")[:6]
            try:
                return dt.datetime.strptime(date + time, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
            except ValueError:
                return None
    return None


def _float_or_none(value: object) -> float | None:
    try:
        result = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return result if np.isfinite(result) else None


def dicom_metadata(first: pydicom.Dataset, *, key: str) -> dict:
    """The study-relevant, non-identifying header fields (DICOM PS3.15 basic profile in spirit)."""
    exam = _dicom_datetime(first)
    return {
        "series_uid": pseudonym(str(first.get("SeriesInstanceUID", "")), key=key, prefix="S-")
        if first.get("SeriesInstanceUID")
        else "",
        "patient_pseudonym": pseudonym(str(first.get("PatientID", "")), key=key, prefix="P-")
        if first.get("PatientID")
        else "",
        "exam_datetime": exam,
        "scanner_model": str(first.get("ManufacturerModelName", "") or "")[:128],
        "manufacturer": str(first.get("Manufacturer", "") or "")[:128],
        "kvp": _float_or_none(first.get("KVP")),
        "slice_thickness_mm": _float_or_none(first.get("SliceThickness")),
        "sex": str(first.get("PatientSex", "") or "")[:1]
        if str(first.get("PatientSex", "")) in ("M", "F")
        else "",
        "birth_year": _birth_year(first),
    }


def _birth_year(ds: pydicom.Dataset) -> int | None:
    # Only the year is kept: the platform stores no birth dates.
    birth = str(ds.get("PatientBirthDate", "") or "")
    return int(birth[:4]) if len(birth) >= 4 and birth[:4].isdigit() else None


def write_canonical(image: sitk.Image) -> tuple[Path, str]:
    """Writes the volume as .nii.gz to a temporary file; returns the path and the file's SHA-256."""
    handle = tempfile.NamedTemporaryFile(suffix=".nii.gz", delete=False)
    handle.close()
    path = Path(handle.name)
    sitk.WriteImage(image, str(path), useCompression=True, compressionLevel=1)
    return path, file_sha256(path)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def image_geometry(image: sitk.Image) -> dict:
    return {
        "size": list(image.GetSize()),
        "spacing": [round(float(v), 6) for v in image.GetSpacing()],
        "origin": [round(float(v), 4) for v in image.GetOrigin()],
        "direction": [round(float(v), 6) for v in image.GetDirection()],
    }
