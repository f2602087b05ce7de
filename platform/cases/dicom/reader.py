"""Reading a DICOM export (file, folder, DICOMDIR medium or zip) into the canonical volume, with the
series choice and its reasons, the DLP of the study's dose report, and the sealed source record."""

import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..imaging import CanonicalVolume, canonicalise, dicom_metadata, pseudonym
from ..validation import ImportRejected, check_spacing
from .discovery import DicomFile, dicom_files
from .dose import dlp_total_mgycm
from .geometry import read_volume
from .series import SeriesChoice, choose_series, studies
from .source import source_record


def series_code(uid: str, *, key: str) -> str:
    """The keyed hash a coordinator names a series by (the same as a case's `series_uid`)."""
    return pseudonym(uid, key=key, prefix="S-") if uid else ""


def _dlp(reports: list[DicomFile]) -> tuple[float | None, str]:
    totals = [t for t in (dlp_total_mgycm(r.header) for r in reports) if t is not None]
    if not totals:
        return (
            None,
            "no dose report (RDSR) with a DLP in the study"
            if not reports
            else "the dose report states no total DLP",
        )
    # Several reports of one exam accumulate: the largest total is the whole exam's.
    return max(totals), f"DLP {max(totals):g} mGy.cm from the dose report (RDSR)"


def _report(choice: SeriesChoice, *, key: str, dose_note: str) -> dict:
    chosen = choice.chosen
    return {
        "chosen": chosen.summary(series_hash=series_code(chosen.uid, key=key)),
        "passed_over": [
            c.summary(series_hash=series_code(c.uid, key=key)) for c in choice.candidates if c is not chosen
        ],
        "notes": choice.notes + list(chosen.geometry.notes) + [dose_note],  # type: ignore[union-attr]
    }


def read_study(files: list[DicomFile], *, key: str, series: str = "") -> CanonicalVolume:
    """One study's files -> the chosen series as a canonical volume (call while the files exist)."""
    choice = choose_series(files, wanted=series, hash_of=lambda uid: series_code(uid, key=key))
    geometry = choice.chosen.geometry
    assert geometry is not None
    check_spacing(
        [geometry.pixel_spacing[1], geometry.pixel_spacing[0], geometry.step_mm], where="DICOM series: "
    )
    image = canonicalise(read_volume(geometry), where="DICOM series: ")
    meta = dicom_metadata(geometry.files[0].header, key=key)
    meta["dlp_mgycm"], dose_note = _dlp(choice.dose_reports)
    meta["import_report"] = _report(choice, key=key, dose_note=dose_note)
    meta["dicom_source"] = source_record(geometry)
    meta["format"] = "dicom"
    return CanonicalVolume(image=image, series_uid_hash=meta["series_uid"], metadata=meta)


@dataclass
class Study:
    number: int
    files: list[DicomFile]

    @property
    def label(self) -> str:
        header = self.files[0].header
        date = str(header.get("StudyDate", "") or "no date")
        return f"study {self.number} ({date} {str(header.get('StudyDescription', '') or '').strip()})".strip()


def read_dicom(source: Path, *, key: str, series: str = "") -> CanonicalVolume:
    """One study from a file, folder or zip; several studies are refused (the command imports each)."""
    with tempfile.TemporaryDirectory(prefix="osteoscreen-dicom-") as scratch:
        files = dicom_files(source, scratch=Path(scratch))
        found = studies(files)
        if not files:
            raise ImportRejected(
                f"{Path(source).name}: no DICOM files found (files are recognised by content, "
                "whatever their names)"
            )
        if len(found) > 1:
            raise ImportRejected(
                f"{Path(source).name} holds {len(found)} DICOM studies; import one study at a time "
                "(import_cases FOLDER imports every study of a folder)"
            )
        return read_study(files, key=key, series=series)


def studies_in(sources: list[Path], *, scratch: Path) -> list[Study]:
    """Every study in a set of files and folders (zips unpacked under `scratch`)."""
    files = [f for source in sources for f in dicom_files(source, scratch=scratch / f"s{id(source)}")]
    return [Study(number=i, files=members) for i, members in enumerate(studies(files).values(), start=1)]
