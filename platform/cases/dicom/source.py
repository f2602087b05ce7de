"""The source series' identifiers, sealed.

A DICOM Segmentation or SR sent back to the hospital must reference the original study, series and
slices by their UIDs, and carry the PatientID the PACS files them under. The platform otherwise keeps
no identifiers, so these are kept only encrypted (Fernet: AES-128-CBC + HMAC-SHA256) with a key from
settings (`DICOM_SOURCE_KEY`, or else derived from `PSEUDONYM_KEY`), opened only to write an export,
and never shown to anyone.
"""

import base64
import hashlib
import json

import numpy as np
from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from .geometry import SliceGeometry


def _fernet() -> Fernet:
    secret = getattr(settings, "DICOM_SOURCE_KEY", "") or settings.PSEUDONYM_KEY
    digest = hashlib.sha256(b"osteoscreen dicom source v1:" + secret.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(record: dict) -> str:
    return _fernet().encrypt(json.dumps(record, separators=(",", ":")).encode()).decode()


def unseal(token: str) -> dict:
    try:
        return json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken as exc:
        raise ValueError("the sealed source series cannot be opened with this DICOM_SOURCE_KEY") from exc


def _text(header, name: str) -> str:
    return str(header.get(name, "") or "")


def source_record(geometry: SliceGeometry) -> dict:
    """What an export needs of the source: UIDs, the PatientID, and each slice's place."""
    first = geometry.files[0].header
    return {
        "patient_id": _text(first, "PatientID"),
        "study_uid": _text(first, "StudyInstanceUID"),
        "series_uid": _text(first, "SeriesInstanceUID"),
        "frame_of_reference_uid": _text(first, "FrameOfReferenceUID"),
        "study_date": _text(first, "StudyDate"),
        "study_time": _text(first, "StudyTime"),
        "study_id": _text(first, "StudyID"),
        "accession_number": _text(first, "AccessionNumber"),
        "patient_sex": _text(first, "PatientSex"),
        "sop_class_uid": _text(first, "SOPClassUID"),
        "rows": int(first.Rows),
        "columns": int(first.Columns),
        "pixel_spacing": list(geometry.pixel_spacing),
        "orientation": [float(v) for v in np.concatenate([geometry.row, geometry.column])],
        "slice_thickness": float(first.get("SliceThickness") or geometry.step_mm),
        "slices": [
            {
                "uid": _text(f.header, "SOPInstanceUID"),
                "position": [float(v) for v in f.header.ImagePositionPatient],
            }
            for f in geometry.files
        ],
    }
