"""Writes of the cases app: import, QCT, exclusions, cohorts and splits."""

import codecs
import csv
import datetime as dt
import io
import logging
import random
import shutil
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.files.move import file_move_safe
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.audit import audit_log, model_snapshot, snapshot_changes
from osteoscreen.errors import DomainError
from osteoscreen.parsing import parse_int

from . import imaging, qc
from .bone_status import QCT_SITES, T_SCORE_RANGE, bone_status
from .dicom import pacs
from .dicom import reader as dicom_reader
from .dicom.source import seal
from .models import (
    Case,
    Cohort,
    DicomSource,
    Exclusion,
    Patient,
    QCFinding,
    QCTMeasurement,
    Split,
    SplitMembership,
)
from .validation import NIFTI_SUFFIXES, ImportRejected, check_nifti_header, check_nifti_payload, check_zip

log = logging.getLogger(__name__)


@dataclass
class ImportOutcome:
    case: Case
    created: bool


# -- volumes ------------------------------------------------------------------------------------


def _read_volume(path: Path, *, series: str = "") -> imaging.CanonicalVolume:
    name = path.name.lower()
    if name.endswith(NIFTI_SUFFIXES):
        return imaging.read_nifti(path)
    if path.is_dir() or name.endswith(".zip"):
        return dicom_reader.read_dicom(path, key=settings.PSEUDONYM_KEY, series=series)
    raise ImportRejected(f"{path.name}: not a NIfTI file (.nii, .nii.gz) or a DICOM series (.zip or folder)")


def import_declared_bytes(path: Path) -> int:
    """The memory an upload's volume will take once read, from its header (NIfTI) or its zip directory
    (DICOM), after checking both; nothing is decompressed. The API uses it to decide whether the import
    runs in the request or in a background job, and refuses a bad file before either."""
    name = path.name.lower()
    if name.endswith(NIFTI_SUFFIXES):
        layout = check_nifti_header(path)
        if not name.endswith(".gz"):
            check_nifti_payload(path, layout)  # a file size, not a read: cheap enough for the request
        return layout.payload_bytes
    if name.endswith(".zip"):
        return sum(info.file_size for info in check_zip(path))
    raise ImportRejected(f"{path.name}: not a NIfTI file (.nii, .nii.gz) or a DICOM series (.zip or folder)")


def _existing_case(volume: imaging.CanonicalVolume, sha256: str) -> Case | None:
    query = Case.objects.filter(volume_sha256=sha256)
    if volume.series_uid_hash:
        query = query | Case.objects.filter(series_uid=volume.series_uid_hash)
    return query.first()


def case_import(
    *,
    path: Path,
    actor: Any = None,
    study_id: str = "",
    sex: str = "",
    birth_year: int | None = None,
    metadata: dict | None = None,
    exclusion_reason: str = "",
    series: str = "",
) -> ImportOutcome:
    """Imports one CT (NIfTI file, DICOM zip or DICOM folder) as a case. Nothing is stored on error.

    A DICOM study's series is chosen by the rules of cases/dicom/series.py unless `series` names one
    (its index or code in the import report). Re-importing the same series (same voxel file SHA-256 or
    same SeriesInstanceUID) returns the existing case instead of a duplicate.
    """
    volume = _read_volume(Path(path), series=series)
    return _volume_import(
        volume=volume,
        actor=actor,
        study_id=study_id,
        sex=sex,
        birth_year=birth_year,
        metadata=metadata,
        exclusion_reason=exclusion_reason,
    )


def _missing_identity(meta: dict) -> str:
    if meta.get("format") == "dicom":
        return (
            "no study id: this DICOM series carries no patient identity (its PatientID is empty, as in "
            "anonymised exports); give a study id"
        )
    return "no study id: give one (NIfTI files carry no patient identity)"


def _volume_import(
    *,
    volume: imaging.CanonicalVolume,
    actor: Any,
    study_id: str,
    sex: str,
    birth_year: int | None,
    metadata: dict | None,
    exclusion_reason: str,
) -> ImportOutcome:
    meta = {**volume.metadata, **(metadata or {})}
    study_id = study_id or meta.get("patient_pseudonym") or ""
    if not study_id:
        raise ImportRejected(_missing_identity(meta))
    tmp_path, sha256 = imaging.write_canonical(volume.image)
    try:
        existing = _existing_case(volume, sha256)
        if existing is not None:
            return ImportOutcome(case=existing, created=False)
        case = _case_create(
            tmp_path=tmp_path,
            sha256=sha256,
            volume=volume,
            meta=meta,
            actor=actor,
            study_id=study_id,
            sex=sex or meta.get("sex", ""),
            birth_year=birth_year or meta.get("birth_year"),
        )
        if exclusion_reason:
            exclusion_add(case=case, reason=exclusion_reason, actor=actor, note="recorded at import")
        qc.case_import_qc_run(case=case, image=volume.image)
        return ImportOutcome(case=case, created=True)
    finally:
        tmp_path.unlink(missing_ok=True)


def _case_create(
    *,
    tmp_path: Path,
    sha256: str,
    volume: imaging.CanonicalVolume,
    meta: dict,
    actor: Any,
    study_id: str,
    sex: str,
    birth_year: int | None,
) -> Case:
    """Stores the file, then the rows; if the rows fail, the file goes too (Django has no rollback hook)."""
    case = Case(volume_sha256=sha256)
    with open(tmp_path, "rb") as fh:
        case.volume.save(f"{sha256}.nii.gz", File(fh), save=False)
    try:
        with transaction.atomic():
            return _case_rows_create(
                case=case,
                volume=volume,
                meta=meta,
                actor=actor,
                study_id=study_id,
                sex=sex,
                birth_year=birth_year,
            )
    except IntegrityError as exc:
        _stored_volume_delete(case)
        raise ImportRejected("this series is already stored") from exc
    except BaseException:
        _stored_volume_delete(case)
        raise


def _stored_volume_delete(case: Case) -> None:
    # A field whose save never returned a name holds no file, so there is nothing to delete.
    if case.volume.name:
        case.volume.storage.delete(case.volume.name)


def _case_rows_create(
    *,
    case: Case,
    volume: imaging.CanonicalVolume,
    meta: dict,
    actor: Any,
    study_id: str,
    sex: str,
    birth_year: int | None,
) -> Case:
    patient, patient_created = Patient.objects.get_or_create(
        study_id=study_id, defaults={"sex": sex or "", "birth_year": birth_year}
    )
    if patient_created:
        audit_log(actor=actor, action="create", obj=patient)
    for name, value in imaging.image_geometry(volume.image).items():
        setattr(case, name, value)
    case.patient = patient
    case.series_uid = volume.series_uid_hash or meta.get("series_uid", "")
    case.exam_datetime = meta.get("exam_datetime")
    case.scanner_model = meta.get("scanner_model", "") or ""
    case.manufacturer = meta.get("manufacturer", "") or ""
    case.kvp = meta.get("kvp")
    case.slice_thickness_mm = meta.get("slice_thickness_mm")
    case.dlp_mgycm = meta.get("dlp_mgycm")
    case.effective_dose_msv = meta.get("effective_dose_msv")
    case.source = meta.get("source", "dicom" if meta.get("format") == "dicom" else "nifti")
    case.import_report = meta.get("import_report", {})
    case.created_by = actor if getattr(actor, "is_authenticated", False) else None
    case.save()
    if meta.get("dicom_source"):
        DicomSource.objects.create(case=case, sealed=seal(meta["dicom_source"]))
    audit_log(actor=actor, action="create", obj=case)
    return case


# -- QCT ----------------------------------------------------------------------------------------

QCT_COLUMNS = ["study_id", "qct_date"] + [f"{site}_{kind}" for site in QCT_SITES for kind in ("bmd", "t")]
# A QCT done more than this many days from the CT does not describe the same bone (the paper: within a week);
# rows further away are still matched to the nearest case, and the gap is stored and shown.
QCT_MAX_DAYS_FROM_CT = 30
# Plausible BMD at a hip site, per unit: volumetric mg/cm3, or areal (DXA-equivalent) g/cm2.
BMD_RANGES = {"mg/cm3": (0.0, 2000.0), "g/cm2": (0.0, 3.0)}
DEFAULT_BMD_UNIT = "mg/cm3"


@dataclass
class QCTRow:
    line: int
    study_id: str
    qct_date: dt.date
    values: dict[str, float | None]
    bmd_unit: str = DEFAULT_BMD_UNIT


def _parse_float(raw: str, *, line: int, column: str, bounds: tuple[float, float] | None) -> float | None:
    raw = (raw or "").strip()
    if raw == "":
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise ImportRejected(f"row {line}, column {column}: {raw!r} is not a number") from exc
    if value != value:  # NaN parses as a float but is no measurement
        raise ImportRejected(f"row {line}, column {column}: {raw!r} is not a number")
    if bounds is not None and not bounds[0] <= value <= bounds[1]:
        raise ImportRejected(
            f"row {line}, column {column}: {raw} is outside the range {bounds[0]} to {bounds[1]}"
        )
    return value


# Byte-order marks a spreadsheet writes at the start of a "Unicode" CSV or text export.
QCT_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Without a mark: UTF-8 (strict), else the Windows code page Excel writes as "CSV", else Latin-1.
QCT_FALLBACK_ENCODINGS = ("utf-8", "cp1252", "latin-1")
# Control characters never found in a text table (tab, line feed and carriage return are allowed).
_NOT_TEXT = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\x7f"}
# Field separators spreadsheets write: "," (English), ";" (where "," is the decimal mark), tab ("text").
QCT_DELIMITERS = (",", ";", "\t")


def spreadsheet_text(raw: bytes, *, what: str) -> str:
    """The text of a CSV in whatever encoding a spreadsheet saved it (UTF-8 with or without a BOM,
    UTF-16/32 with a BOM, Windows-1252 / Latin-1); binary junk is refused with a clear message."""
    for bom, encoding in QCT_BOMS:
        if raw.startswith(bom):
            try:
                return _text_only(raw.decode(encoding), what=what)
            except UnicodeDecodeError as exc:
                raise ImportRejected(
                    f"{what}: starts like {encoding} text but is not ({exc.reason})"
                ) from exc
    for encoding in QCT_FALLBACK_ENCODINGS:
        try:
            return _text_only(raw.decode(encoding), what=what)
        except UnicodeDecodeError:
            continue
    raise ImportRejected(f"{what}: not a text file")  # unreachable: Latin-1 decodes any byte


def qct_csv_decode(raw: bytes) -> str:
    return spreadsheet_text(raw, what="QCT CSV")


def _text_only(text: str, *, what: str) -> str:
    if any(ch in _NOT_TEXT for ch in text):
        raise ImportRejected(
            f"{what}: this is not a text table (it holds binary data); save the sheet as CSV"
        )
    return text


def _qct_delimiter(text: str) -> str:
    header = text.split("\n", 1)[0]
    return max(QCT_DELIMITERS, key=header.count)


def qct_csv_parse(text: str) -> list[QCTRow]:
    """Parses and checks every row before anything is stored; the first problem names row and column."""
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text), delimiter=_qct_delimiter(text))
    known = qct_csv_parse_header(list(reader.fieldnames or []))
    rows = []
    for line, record in enumerate(reader, start=2):
        if None in record or any(record.get(c) is None for c in reader.fieldnames or []):
            raise ImportRejected(f"row {line}: wrong number of columns")
        study_id = (record["study_id"] or "").strip()
        if not study_id:
            raise ImportRejected(f"row {line}, column study_id: empty")
        try:
            qct_date = dt.date.fromisoformat((record["qct_date"] or "").strip()[:10])
        except ValueError as exc:
            raise ImportRejected(
                f"row {line}, column qct_date: {record['qct_date']!r} is not a date (YYYY-MM-DD)"
            ) from exc
        unit = (record.get("bmd_unit") or DEFAULT_BMD_UNIT).strip()
        if unit not in BMD_RANGES:
            raise ImportRejected(
                f"row {line}, column bmd_unit: {unit!r} is not one of {', '.join(BMD_RANGES)}"
            )
        values = {
            c: _parse_float(
                record[c], line=line, column=c, bounds=T_SCORE_RANGE if c.endswith("_t") else BMD_RANGES[unit]
            )
            for c in known
        }
        rows.append(QCTRow(line=line, study_id=study_id, qct_date=qct_date, values=values, bmd_unit=unit))
    if not rows:
        raise ImportRejected("QCT CSV: no data rows")
    return rows


@dataclass(frozen=True)
class QCTProblem:
    """One refused cell (or row, when column is empty) of a QCT CSV, for the page's table."""

    row: int
    column: str
    message: str


def _cell_problem(call, *, line: int, column: str) -> QCTProblem | None:
    try:
        call()
    except ImportRejected as exc:
        # The row and column are the table's own columns; the message keeps only what is wrong.
        return QCTProblem(row=line, column=column, message=str(exc).split(": ", 1)[-1])
    return None


def _row_problems(record: dict, *, line: int, known: list[str], fieldnames: list[str]) -> list[QCTProblem]:
    if None in record or any(record.get(c) is None for c in fieldnames):
        return [QCTProblem(row=line, column="", message="wrong number of columns")]
    problems = []
    if not (record["study_id"] or "").strip():
        problems.append(QCTProblem(row=line, column="study_id", message="empty"))
    raw_date = (record["qct_date"] or "").strip()
    try:
        dt.date.fromisoformat(raw_date[:10])
    except ValueError:
        problems.append(
            QCTProblem(row=line, column="qct_date", message=f"{raw_date!r} is not a date (YYYY-MM-DD)")
        )
    unit = (record.get("bmd_unit") or DEFAULT_BMD_UNIT).strip()
    if unit not in BMD_RANGES:
        problems.append(
            QCTProblem(row=line, column="bmd_unit", message=f"{unit!r} is not one of {', '.join(BMD_RANGES)}")
        )
        unit = DEFAULT_BMD_UNIT
    for c in known:
        bounds = T_SCORE_RANGE if c.endswith("_t") else BMD_RANGES[unit]
        problem = _cell_problem(
            lambda c=c, bounds=bounds: _parse_float(record[c], line=line, column=c, bounds=bounds),
            line=line,
            column=c,
        )
        if problem:
            problems.append(problem)
    return problems


def qct_csv_check(text: str) -> tuple[int, list[QCTProblem]]:
    """Every problem of a QCT CSV (row and column of each), without storing anything: the import page
    shows them all at once, so a coordinator fixes the file in one go. Returns (data rows, problems)."""
    text = text.lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text), delimiter=_qct_delimiter(text))
    fieldnames = list(reader.fieldnames or [])
    try:
        qct_csv_parse_header(fieldnames)
    except ImportRejected as exc:
        return 0, [QCTProblem(row=1, column="", message=str(exc))]
    known = [c for c in QCT_COLUMNS[2:] if c in fieldnames]
    problems: list[QCTProblem] = []
    ids: dict[int, str] = {}
    n_rows = 0
    for line, record in enumerate(reader, start=2):
        n_rows += 1
        row_problems = _row_problems(record, line=line, known=known, fieldnames=fieldnames)
        problems += row_problems
        if not any(p.column in ("", "study_id") for p in row_problems):
            ids[line] = record["study_id"].strip()
    if n_rows == 0:
        problems.append(QCTProblem(row=1, column="", message="no data rows"))
    return n_rows, problems + _patient_problems(ids)


def _patient_problems(ids: dict[int, str]) -> list[QCTProblem]:
    with_cases = set(
        Patient.objects.filter(study_id__in=set(ids.values()), cases__isnull=False).values_list(
            "study_id", flat=True
        )
    )
    known = set(Patient.objects.filter(study_id__in=set(ids.values())).values_list("study_id", flat=True))
    return [
        QCTProblem(
            row=line,
            column="study_id",
            message=f"unknown patient {sid!r}" if sid not in known else f"patient {sid!r} has no CT case",
        )
        for line, sid in ids.items()
        if sid not in with_cases
    ]


def qct_csv_parse_header(fieldnames: list[str]) -> list[str]:
    """The known measurement columns of a header; refuses a header without the key columns or a T-score."""
    missing = [c for c in ("study_id", "qct_date") if c not in fieldnames]
    if missing:
        raise ImportRejected(
            f"QCT CSV: missing column(s) {', '.join(missing)}; expected {', '.join(QCT_COLUMNS)}"
        )
    known = [c for c in QCT_COLUMNS[2:] if c in fieldnames]
    if not any(c.endswith("_t") for c in known):
        raise ImportRejected("QCT CSV: no T-score column (e.g. femoral_neck_t, total_hip_t)")
    return known


def _nearest_case(patient: Patient, qct_date: dt.date) -> tuple[Case | None, int | None]:
    best, best_days = None, None
    for case in patient.cases.all():
        days = (qct_date - case.exam_datetime.date()).days if case.exam_datetime else None
        if best is None or (days is not None and (best_days is None or abs(days) < abs(best_days))):
            best, best_days = case, days
    return best, best_days


@transaction.atomic
def qct_import_csv(*, text: str, actor: Any = None) -> list[QCTMeasurement]:
    """Imports QCT results; every row is checked first, and an error anywhere stores nothing."""
    rows = qct_csv_parse(text)
    patients = {p.study_id: p for p in Patient.objects.filter(study_id__in={r.study_id for r in rows})}
    unknown = [r for r in rows if r.study_id not in patients]
    if unknown:
        raise ImportRejected(
            f"row {unknown[0].line}, column study_id: unknown patient {unknown[0].study_id!r}"
        )
    stored = []
    for row in rows:
        case, days = _nearest_case(patients[row.study_id], row.qct_date)
        if case is None:
            raise ImportRejected(f"row {row.line}, column study_id: patient {row.study_id!r} has no CT case")
        stored.append(
            qct_set(
                case=case,
                qct_date=row.qct_date,
                values={**row.values, "bmd_unit": row.bmd_unit},
                days_from_ct=days,
                actor=actor,
            )
        )
    return stored


def qct_set(
    *,
    case: Case,
    qct_date: dt.date,
    values: dict[str, float | str | None],
    days_from_ct: int | None,
    actor: Any = None,
) -> QCTMeasurement:
    existing = QCTMeasurement.objects.filter(case=case).first()
    before = model_snapshot(existing) if existing else None
    qct = existing or QCTMeasurement(case=case)
    qct.qct_date = qct_date
    qct.days_from_ct = days_from_ct
    for column, value in values.items():
        setattr(qct, column, value)
    qct.save()
    audit_log(
        actor=actor,
        action="update" if existing else "create",
        obj=qct,
        changes=snapshot_changes(before, model_snapshot(qct)),
    )
    case_update_bone_status(case=case, actor=actor)
    return qct


def case_update_bone_status(*, case: Case, actor: Any = None) -> Case:
    qct = QCTMeasurement.objects.filter(case=case).first()
    status = bone_status(qct.t_scores(), settings.BONE_STATUS_SITES) if qct else ""
    if status != case.bone_status:
        audit_log(actor=actor, action="update", obj=case, changes={"bone_status": [case.bone_status, status]})
        case.bone_status = status
        case.save(update_fields=["bone_status"])
    return case


# -- exclusions ---------------------------------------------------------------------------------


@transaction.atomic
def exclusion_add(*, case: Case, reason: str, actor: Any = None, note: str = "") -> Exclusion:
    if reason not in Exclusion.Reason.values:
        raise ImportRejected(
            f"unknown exclusion reason {reason!r}; one of {', '.join(Exclusion.Reason.values)}"
        )
    exclusion, created = Exclusion.objects.get_or_create(
        case=case,
        reason=reason,
        defaults={"note": note, "created_by": actor if getattr(actor, "is_authenticated", False) else None},
    )
    if created:
        audit_log(actor=actor, action="create", obj=exclusion)
    return exclusion


@transaction.atomic
def exclusion_remove(*, exclusion: Exclusion, actor: Any = None) -> None:
    audit_log(actor=actor, action="delete", obj=exclusion)
    exclusion.delete()


# -- QC findings: a coordinator confirms one as an exclusion or dismisses it ---------------------------


@transaction.atomic
def qc_finding_confirm(*, finding: QCFinding, actor: Any, reason: str = "") -> QCFinding:
    """Confirm a finding as an exclusion (the suggested reason unless the coordinator picked another)."""
    reason = reason or finding.suggested_exclusion
    if reason not in Exclusion.Reason.values:
        raise ImportRejected(
            f"unknown exclusion reason {reason!r}; one of {', '.join(Exclusion.Reason.values)}"
        )
    _check_open(finding)
    side = f"{finding.side} side" if finding.side else "whole image"
    exclusion = exclusion_add(
        case=finding.case, reason=reason, actor=actor, note=f"QC ({side}): {finding.reason}"
    )
    return _decide(finding, actor=actor, status=QCFinding.Status.CONFIRMED, exclusion=exclusion)


@transaction.atomic
def qc_finding_dismiss(*, finding: QCFinding, actor: Any) -> QCFinding:
    """Dismiss a finding the coordinator judges wrong (the case stays included on its account)."""
    _check_open(finding)
    return _decide(finding, actor=actor, status=QCFinding.Status.DISMISSED, exclusion=None)


def _check_open(finding: QCFinding) -> None:
    current = QCFinding.objects.select_for_update().get(pk=finding.pk)
    if current.status != QCFinding.Status.OPEN:
        raise ImportRejected(f"this finding was already {current.get_status_display()}")


def _decide(finding: QCFinding, *, actor: Any, status: str, exclusion: Exclusion | None) -> QCFinding:
    before = model_snapshot(finding)
    finding.status, finding.exclusion = status, exclusion
    finding.decided_by = actor if getattr(actor, "is_authenticated", False) else None
    finding.decided_at = timezone.now()
    finding.save(update_fields=["status", "exclusion", "decided_by", "decided_at"])
    audit_log(
        actor=actor, action="update", obj=finding, changes=snapshot_changes(before, model_snapshot(finding))
    )
    return finding


# -- cohorts and splits -------------------------------------------------------------------------


@transaction.atomic
def cohort_create(
    *, name: str, description: str = "", cases: Iterable[Case] = (), actor: Any = None
) -> Cohort:
    if Cohort.objects.filter(name=name).exists():
        raise ImportRejected(f"a cohort named {name!r} exists already")
    cohort = Cohort.objects.create(
        name=name,
        description=description,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    cohort.cases.set(list(cases))
    audit_log(actor=actor, action="create", obj=cohort, changes={"cases": [None, [c.pk for c in cases]]})
    return cohort


@transaction.atomic
def cohort_add_cases(*, cohort: Cohort, cases: Iterable[Case], actor: Any = None) -> Cohort:
    cases = list(cases)
    cohort.cases.add(*cases)
    audit_log(
        actor=actor, action="update", obj=cohort, changes={"cases_added": [None, [c.pk for c in cases]]}
    )
    return cohort


@transaction.atomic
def cohort_remove_cases(*, cohort: Cohort, cases: Iterable[Case], actor: Any = None) -> Cohort:
    """Takes cases out of a cohort. Frozen splits keep their memberships (append-only): the removal shows
    in the next split version the coordinator freezes."""
    cases = list(cases)
    cohort.cases.remove(*cases)
    audit_log(
        actor=actor, action="update", obj=cohort, changes={"cases_removed": [[c.pk for c in cases], None]}
    )
    return cohort


@dataclass(frozen=True)
class SplitParams:
    """How a split is drawn. The test set is the latest cases by examination date (as in the paper,
    split by time, not at random): those on or after `test_cutoff`, or else the latest `test_fraction`.
    Development cases then go to training / validation at random, `validation_fraction` (the paper's
    7:3 -> 0.3), optionally stratified by bone status."""

    seed: int = 20240101
    test_fraction: float = 0.22
    test_cutoff: dt.date | None = None
    validation_fraction: float = 0.3
    stratify: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.test_fraction < 1:
            raise ImportRejected("test_fraction must be in [0, 1)")
        if not 0 < self.validation_fraction < 1:
            raise ImportRejected("validation_fraction must be in (0, 1)")

    def as_json(self) -> dict:
        return {
            "seed": self.seed,
            "test_fraction": self.test_fraction,
            "validation_fraction": self.validation_fraction,
            "test_cutoff": self.test_cutoff.isoformat() if self.test_cutoff else None,
            "stratify": self.stratify,
        }


def undated_cases(cases: list[Case]) -> list[Case]:
    """The cases without an examination date: nothing says whether they are among the latest."""
    return [c for c in cases if c.exam_datetime is None]


def split_assign(cases: list[Case], params: SplitParams) -> dict[int, str]:
    """Case id -> subset. Deterministic for a seed and a set of cases, whatever their order.

    The test set is chosen by date, so only dated cases can enter it: an undated case goes to
    development (training or validation). The test fraction is still a share of all cases, taken from
    the latest dated ones.
    """
    by_time = sorted((c for c in cases if c.exam_datetime is not None), key=lambda c: (c.exam_datetime, c.pk))
    if params.test_cutoff:
        test = [c for c in by_time if c.exam_datetime.date() >= params.test_cutoff]
    else:
        n_test = min(round(len(cases) * params.test_fraction), len(by_time))
        test = by_time[len(by_time) - n_test :] if n_test else []
    test_ids = {c.pk for c in test}
    development = sorted((c for c in cases if c.pk not in test_ids), key=lambda c: c.pk)
    groups: dict[str, list[Case]] = {}
    for case in development:
        groups.setdefault(case.bone_status if params.stratify else "", []).append(case)
    rng = random.Random(params.seed)
    assignment = {pk: SplitMembership.Subset.TEST.value for pk in test_ids}
    for key in sorted(groups):
        members = groups[key]
        rng.shuffle(members)
        n_validation = round(len(members) * params.validation_fraction)
        for i, case in enumerate(members):
            assignment[case.pk] = (
                SplitMembership.Subset.VALIDATION if i < n_validation else SplitMembership.Subset.TRAINING
            ).value
    return assignment


def included_cases(cohort: Cohort) -> list[Case]:
    return list(cohort.cases.filter(exclusions__isnull=True).select_related("patient").order_by("pk"))


@transaction.atomic
def split_create(*, cohort: Cohort, params: SplitParams, actor: Any = None) -> Split:
    """A new frozen split version of the cohort's included cases; it becomes the current one."""
    cases = included_cases(cohort)
    if len(cases) < 3:
        raise ImportRejected(f"the cohort has {len(cases)} included case(s); a split needs at least 3")
    latest = Split.objects.select_for_update().filter(cohort=cohort).order_by("-version").first()
    Split.objects.filter(cohort=cohort, current=True).update(current=False)
    split = Split.objects.create(
        cohort=cohort,
        version=(latest.version + 1) if latest else 1,
        seed=params.seed,
        params={**params.as_json(), **_undated_note(cases)},
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    assignment = split_assign(cases, params)
    SplitMembership.objects.bulk_create(
        SplitMembership(split=split, case_id=pk, subset=s) for pk, s in assignment.items()
    )
    audit_log(actor=actor, action="create", obj=split)
    return split


def _undated_note(cases: list[Case]) -> dict:
    """What the split's record says about undated cases, so a reader of the split sees why they are never
    in its test set; nothing when every case has a date."""
    undated = sorted(c.pk for c in undated_cases(cases))
    if not undated:
        return {}
    return {
        "undated_kept_out_of_test": undated,
        "note": f"{len(undated)} case(s) without an examination date were kept out of the date-based test set "
        "(split between training and validation)",
    }


class SplitLocked(DomainError):
    """A change to a split a model has used: refused, since the model's evaluation depends on it."""

    status_code = 409


@transaction.atomic
def split_lock(*, split: Split, actor: Any = None) -> Split:
    """Called when a model uses a split: from then on it can never change."""
    if not split.locked:
        Split.objects.filter(pk=split.pk).update(locked=True)
        split.locked = True
        audit_log(actor=actor, action="update", obj=split, changes={"locked": [False, True]})
    return split


def split_check_mutable(split: Split) -> None:
    if Split.objects.filter(pk=split.pk, locked=True).exists():
        raise SplitLocked(
            f"split v{split.version} of {split.cohort.name} was used by a model and can never change; "
            "create a new split version instead"
        )


# -- a cohort folder (manifest.csv + qct.csv, as the synthetic generator writes) --------------------

MANIFEST_COLUMNS = [
    "study_id",
    "sex",
    "birth_year",
    "exam_datetime",
    "scanner_model",
    "manufacturer",
    "kvp",
    "slice_thickness_mm",
    "dlp_mgycm",
    "exclusion_reason",
    "image",
]


def _manifest_metadata(record: dict[str, str]) -> dict:
    def number(key: str) -> float | None:
        raw = (record.get(key) or "").strip()
        return float(raw) if raw else None

    exam = (record.get("exam_datetime") or "").strip()
    exam_dt = dt.datetime.fromisoformat(exam) if exam else None
    if exam_dt and exam_dt.tzinfo is None:
        exam_dt = exam_dt.replace(tzinfo=dt.UTC)
    return {
        "exam_datetime": exam_dt,
        "scanner_model": record.get("scanner_model", ""),
        "manufacturer": record.get("manufacturer", ""),
        "kvp": number("kvp"),
        "slice_thickness_mm": number("slice_thickness_mm"),
        "dlp_mgycm": number("dlp_mgycm"),
    }


def manifest_read(folder: Path) -> list[dict[str, str]]:
    text = spreadsheet_text((folder / "manifest.csv").read_bytes(), what="manifest.csv").lstrip("\ufeff")
    reader = csv.DictReader(io.StringIO(text), delimiter=_qct_delimiter(text))
    missing = [c for c in MANIFEST_COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportRejected(f"manifest.csv: missing column(s) {', '.join(missing)}")
    return list(reader)


def cohort_folder_import(
    *, folder: Path, actor: Any = None, cohort_name: str = "", on_progress=None
) -> list[ImportOutcome]:
    """Imports every case of a manifest folder, then its qct.csv, and puts the cases in a cohort."""
    records = manifest_read(folder)
    outcomes = []
    for i, record in enumerate(records):
        birth = (record.get("birth_year") or "").strip()
        try:
            birth_year = parse_int(birth, name="birth_year", minimum=1800, maximum=2200) if birth else None
            metadata = _manifest_metadata(record)
        except ValueError as exc:
            raise ImportRejected(f"manifest.csv row {i + 2}: {exc}") from exc
        outcome = case_import(
            path=folder / record["image"],
            actor=actor,
            study_id=record["study_id"].strip(),
            sex=(record.get("sex") or "").strip(),
            birth_year=birth_year,
            metadata=metadata,
            exclusion_reason=(record.get("exclusion_reason") or "").strip(),
        )
        outcomes.append(outcome)
        if on_progress:
            on_progress(i + 1, len(records), record["study_id"])
    if (folder / "qct.csv").exists():
        qct_import_csv(text=qct_csv_decode((folder / "qct.csv").read_bytes()), actor=actor)
    if cohort_name:
        cohort = Cohort.objects.filter(name=cohort_name).first()
        cases = [o.case for o in outcomes]
        if cohort:
            cohort_add_cases(cohort=cohort, cases=cases, actor=actor)
        else:
            cohort_create(name=cohort_name, cases=cases, actor=actor)
    return outcomes


@dataclass
class StudyOutcome:
    label: str
    outcome: ImportOutcome | None = None
    error: str = ""


def dicom_folder_import(
    *,
    sources: list[Path],
    actor: Any = None,
    study_id: str = "",
    series: str = "",
    on_progress=None,
    metadata: dict | None = None,
) -> list[StudyOutcome]:
    """Imports every DICOM study found in these files and folders (by content: folders, DICOMDIR media,
    zips), one case per study; a refused study is reported and the others still import."""
    results = []
    with tempfile.TemporaryDirectory(prefix="osteoscreen-dicom-") as scratch:
        found = dicom_reader.studies_in(sources, scratch=Path(scratch))
        for study in found:
            result = StudyOutcome(label=study.label)
            try:
                volume = dicom_reader.read_study(study.files, key=settings.PSEUDONYM_KEY, series=series)
                result.outcome = _volume_import(
                    volume=volume,
                    actor=actor,
                    study_id=study_id,
                    sex="",
                    birth_year=None,
                    metadata=metadata,
                    exclusion_reason="",
                )
            except ImportRejected as exc:
                result.error = str(exc)
            results.append(result)
            if on_progress:
                on_progress(len(results), len(found), study.label)
    return results


def pacs_study_import(
    *, pacs_name: str, token: str, actor: Any = None, study_id: str = "", on_retrieved=None
) -> list[StudyOutcome]:
    """Retrieves one study picked from a PACS search (WADO-RS) and imports it like any DICOM export:
    series chosen by the rules, de-identified, the source UIDs sealed. `on_retrieved(n)` hears how many
    images have arrived."""
    endpoint = pacs.pacs_endpoint(pacs_name)
    with tempfile.TemporaryDirectory(prefix="osteoscreen-pacs-") as folder:
        pacs.study_retrieve(endpoint, token=token, folder=Path(folder), on_progress=on_retrieved)
        return dicom_folder_import(
            sources=[Path(folder)], actor=actor, study_id=study_id, metadata={"source": "pacs"}
        )


def staging_path(suffix: str) -> Path:
    """A place for an upload waiting for a background import; under MEDIA_ROOT so workers on other machines see it."""
    folder = Path(settings.MEDIA_ROOT) / "staging"
    folder.mkdir(parents=True, exist_ok=True)
    handle = tempfile.NamedTemporaryFile(dir=folder, suffix=suffix, delete=False)
    handle.close()
    return Path(handle.name)


def staging_store(upload: Any, suffix: str) -> Path:
    """The upload as a staging file. Django has already streamed a big upload to a temporary file: it is
    moved (renamed where the file system allows), never read into memory; a small one is copied in chunks."""
    path = staging_path(suffix)
    if hasattr(upload, "temporary_file_path"):
        file_move_safe(upload.temporary_file_path(), str(path), allow_overwrite=True)
        return path
    with open(path, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return path


def remove_quietly(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
