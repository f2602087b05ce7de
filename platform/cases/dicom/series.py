"""Which series of a study the platform reads, by stated rules, and why it passed over the others.

The rules, in order:
1. a CT image series (modality CT; dose reports and other objects are not images);
2. ImageType ORIGINAL and PRIMARY, and AXIAL where the scanner states the third value (not DERIVED,
   SECONDARY, REFORMATTED or a localizer / scout);
3. slices that form one volume: one orientation, one pixel spacing, one size, no missing or conflicting
   slices (geometry.py);
4. the most coverage along the body axis (z-extent; extents within one slice step of the coarser
   series count as equal), then the most slices;
5. then the thinnest slices.
A coordinator can name another series; rule 1 and rule 3 cannot be overridden (no volume to read).
"""

from dataclasses import dataclass, field

import numpy as np

from ..validation import ImportRejected
from .discovery import DicomFile
from .dose import is_dose_report
from .geometry import SliceGeometry, slice_geometry

CT_IMAGE_STORAGE = {"1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.2.1"}  # CT, Enhanced CT
LOCALIZER_WORDS = {"LOCALIZER", "SCOUT", "TOPOGRAM", "SURVIEW", "SCANOGRAM"}
# A slice normal more than 45 degrees from the body axis is a coronal or sagittal series, not axial.
AXIAL_MIN_COSINE = 0.7071


@dataclass
class SeriesCandidate:
    uid: str
    files: list[DicomFile]
    index: int = 0  # 1-based, in series-number order: how a coordinator names it without its UID
    geometry: SliceGeometry | None = None
    reason: str = ""  # why it was passed over; empty for the chosen one
    readable: bool = True  # False: no volume can be read from it, whatever the coordinator says
    fallback: bool = (
        False  # an axial volume passed over only for its ImageType: read when nothing better exists
    )

    @property
    def first(self):
        return self.files[0].header

    @property
    def number(self) -> int | None:
        value = self.first.get("SeriesNumber")
        return int(value) if value not in (None, "") else None

    @property
    def description(self) -> str:
        return str(self.first.get("SeriesDescription", "") or "")[:64]

    @property
    def modality(self) -> str:
        return str(self.first.get("Modality", "") or "")

    @property
    def slice_thickness(self) -> float:
        value = self.first.get("SliceThickness")
        try:
            return (
                float(value)
                if value not in (None, "")
                else (self.geometry.step_mm if self.geometry else np.inf)
            )
        except (TypeError, ValueError):
            return self.geometry.step_mm if self.geometry else np.inf

    def summary(self, *, series_hash: str) -> dict:
        """What the coordinator sees: no UIDs, only the keyed hash and the index."""
        geometry = self.geometry
        return {
            "index": self.index,
            "series": series_hash,
            "number": self.number,
            "description": self.description,
            "modality": self.modality,
            "image_type": "\\".join(_image_type(self.first)),
            "slices": len(geometry.files) if geometry else len(self.files),
            "slice_thickness_mm": None
            if not np.isfinite(self.slice_thickness)
            else round(self.slice_thickness, 3),
            "extent_mm": round(geometry.extent_mm, 1) if geometry else None,
            "reason": self.reason,
            "notes": list(geometry.notes) if geometry else [],
        }


def _image_type(header) -> list[str]:
    value = header.get("ImageType") or []
    return [str(v).upper() for v in (value if not isinstance(value, str) else value.split("\\"))]


def studies(files: list[DicomFile]) -> dict[str, list[DicomFile]]:
    """Files by StudyInstanceUID; files without one (anonymised exports) form one study."""
    grouped: dict[str, list[DicomFile]] = {}
    for file in files:
        grouped.setdefault(str(file.header.get("StudyInstanceUID", "") or ""), []).append(file)
    return grouped


def _series_key(header) -> str:
    """The SeriesInstanceUID; for exports stripped of it, what tells a scanner's series apart."""
    uid = str(header.get("SeriesInstanceUID", "") or "")
    if uid:
        return uid
    orientation = ",".join(f"{float(v):.3f}" for v in (header.get("ImageOrientationPatient") or []))
    return f"no-uid:{header.get('SeriesNumber', '')}:{header.get('Modality', '')}:{'/'.join(_image_type(header))}:{orientation}"


def series_of(files: list[DicomFile]) -> list[SeriesCandidate]:
    """Image series and other objects of one study, by SeriesInstanceUID, numbered in series order."""
    grouped: dict[str, list[DicomFile]] = {}
    for file in files:
        grouped.setdefault(_series_key(file.header), []).append(file)
    candidates = [SeriesCandidate(uid=uid, files=members) for uid, members in grouped.items()]
    candidates.sort(key=lambda c: (c.number if c.number is not None else 1 << 30, c.uid))
    for index, candidate in enumerate(candidates, start=1):
        candidate.index = index
    return candidates


def _rule_reason(candidate: SeriesCandidate) -> tuple[str, bool]:
    """(reason, readable) by the header rules 1-2; ("", True) when the series passes them."""
    header = candidate.first
    if is_dose_report(header):
        return "dose report (RDSR): read for the DLP, not an image", False
    if candidate.modality != "CT" or str(header.get("SOPClassUID", "")) not in CT_IMAGE_STORAGE:
        return f"not a CT image series (modality {candidate.modality or 'unknown'})", False
    if int(header.get("NumberOfFrames", 1) or 1) > 1:
        return (
            "a multi-frame (Enhanced CT) object: not read yet; export the series as single-frame CT slices",
            False,
        )
    image_type = _image_type(header)
    if LOCALIZER_WORDS & set(image_type) or len(candidate.files) < 2:
        return "localizer (scout) or single image, not a volume", False
    if image_type and not {"ORIGINAL", "PRIMARY"} <= set(image_type[:2]):
        return f"ImageType {'/'.join(image_type[:2])}: not an ORIGINAL PRIMARY acquisition", True
    if len(image_type) > 2 and image_type[2] not in ("AXIAL", ""):
        return f"ImageType {image_type[2]}: not AXIAL", True
    return "", True


def _examine(candidate: SeriesCandidate) -> None:
    candidate.reason, candidate.readable = _rule_reason(candidate)
    if not candidate.readable:
        return
    try:
        candidate.geometry = slice_geometry(candidate.files)
    except ImportRejected as exc:
        candidate.reason, candidate.readable = str(exc), False
        return
    axial = abs(candidate.geometry.normal[2]) >= AXIAL_MIN_COSINE
    candidate.fallback = axial and candidate.reason.startswith("ImageType")
    if not candidate.reason and not axial:
        candidate.reason = "slices are not axial (a coronal or sagittal series)"


def _best(eligible: list[SeriesCandidate]) -> SeriesCandidate:
    """Rule 4 then rule 5."""
    widest = max(c.geometry.extent_mm for c in eligible)  # type: ignore[union-attr]
    tolerance = max(c.geometry.step_mm for c in eligible)  # type: ignore[union-attr]
    covering = [c for c in eligible if c.geometry.extent_mm >= widest - tolerance]  # type: ignore[union-attr]
    return min(covering, key=lambda c: (c.slice_thickness, -len(c.geometry.files), c.index))  # type: ignore[union-attr]


def _why_not(candidate: SeriesCandidate, chosen: SeriesCandidate) -> str:
    assert candidate.geometry and chosen.geometry
    if candidate.geometry.extent_mm < chosen.geometry.extent_mm - max(
        candidate.geometry.step_mm, chosen.geometry.step_mm
    ):
        return (
            f"covers {candidate.geometry.extent_mm:.0f} mm of the body axis, less than the chosen series' "
            f"{chosen.geometry.extent_mm:.0f} mm"
        )
    if candidate.slice_thickness > chosen.slice_thickness:
        return f"thicker slices ({candidate.slice_thickness:g} mm) than the chosen series ({chosen.slice_thickness:g} mm)"
    return "an equal series came first in series order"


def _named(candidates: list[SeriesCandidate], wanted: str, hash_of) -> SeriesCandidate:
    for candidate in candidates:
        if wanted == str(candidate.index) or wanted == hash_of(candidate.uid):
            if not candidate.readable:
                raise ImportRejected(f"series {wanted} cannot be read as a CT volume: {candidate.reason}")
            return candidate
    raise ImportRejected(
        f"no series {wanted!r} in this study; name one by its index (1-{len(candidates)}) or "
        "its series code from the import report"
    )


@dataclass
class SeriesChoice:
    chosen: SeriesCandidate
    candidates: list[SeriesCandidate] = field(default_factory=list)
    dose_reports: list[DicomFile] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def choose_series(files: list[DicomFile], *, wanted: str = "", hash_of=lambda uid: uid) -> SeriesChoice:
    """Examines every series of one study and picks the one to read (or the one named by `wanted`: an
    index or a series code, `hash_of(uid)`); every other series gets its reason."""
    candidates = series_of(files)
    for candidate in candidates:
        _examine(candidate)
    reports = [f for c in candidates for f in c.files if is_dose_report(f.header)]
    notes, by_fallback = [], False
    if wanted:
        chosen = _named(candidates, wanted.strip(), hash_of)
        notes.append(
            f"series {chosen.index} read as the coordinator chose"
            + (f" ({chosen.reason})" if chosen.reason else "")
        )
    else:
        eligible = [c for c in candidates if c.readable and not c.reason]
        if not eligible:
            # Some exports (and anonymisation tools) mark every series DERIVED: an axial CT volume is
            # still read, and the case says so.
            eligible = [c for c in candidates if c.fallback]
            if not eligible:
                raise ImportRejected(_nothing_to_read(candidates))
            notes.append(
                "no ORIGINAL PRIMARY AXIAL series in the study: read the best axial one whose ImageType "
                "says otherwise"
            )
            by_fallback = True
        chosen = _best(eligible)
    for candidate in candidates:
        if candidate is not chosen and (not candidate.reason or (by_fallback and candidate.fallback)):
            candidate.reason = _why_not(candidate, chosen)
    chosen.reason = ""
    return SeriesChoice(chosen=chosen, candidates=candidates, dose_reports=reports, notes=notes)


def _nothing_to_read(candidates: list[SeriesCandidate]) -> str:
    if not candidates:
        return "no DICOM image series found"
    reasons = "; ".join(
        f"series {c.index} ({c.description or c.modality or 'no description'}): {c.reason}"
        for c in candidates
    )
    return f"no series to read by the rules: {reasons}"
