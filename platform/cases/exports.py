"""A case's results as DICOM (SEG of a VOI, SR of a screening result) and sending them to a PACS.

The apps that own VOIs and predictions (annotations, inference) hand in a label file on the case grid
and what made it; this module opens the case's sealed source record, writes the DICOM object and
returns its bytes, or sends it by STOW-RS. Nothing here is shown to a user but the files themselves.
"""

import io
from pathlib import Path
from typing import Any

import pydicom
import SimpleITK as sitk

from accounts.audit import audit_log
from osteoscreen.errors import DomainError

from .dicom import export, pacs
from .dicom.source import unseal
from .models import Case, DicomSource
from .selectors import case_image


class ExportUnavailable(DomainError):
    status_code = 409


def case_source(case: Case) -> dict:
    """The case's source series (UIDs, slice places), opened from its sealed record."""
    row = DicomSource.objects.filter(case=case).first()
    if row is None:
        raise ExportUnavailable(
            "this case was not imported from DICOM: there is no source series for a DICOM "
            "export to reference (export its VOI as NIfTI instead)"
        )
    try:
        return unseal(row.sealed)
    except ValueError as exc:
        raise ExportUnavailable(str(exc)) from exc


def _labels(case: Case, labels_path: Path) -> sitk.Image:
    labels = sitk.ReadImage(str(labels_path))
    if list(labels.GetSize()) != list(case.size):
        raise ExportUnavailable("the label file is not on the case's grid")
    return labels


def dataset_bytes(dataset: pydicom.Dataset) -> bytes:
    buffer = io.BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def voi_segmentation(
    *, case: Case, labels_path: Path, producer: export.Producer, description: str
) -> pydicom.Dataset:
    try:
        return export.segmentation(
            _labels(case, labels_path), source=case_source(case), producer=producer, description=description
        )
    except export.SourceMissing as exc:
        raise ExportUnavailable(str(exc)) from exc


def voi_segmentation_bytes(**kwargs: Any) -> bytes:
    return dataset_bytes(voi_segmentation(**kwargs))


def screening_report(
    *,
    case: Case,
    labels_path: Path,
    probabilities: dict[str, float],
    predicted_class: str,
    model_name: str,
    model_version: str,
) -> pydicom.Dataset:
    sides = export.side_results(case_image(case), _labels(case, labels_path))
    result = export.ScreeningResult(
        sides=sides,
        probabilities=probabilities,
        predicted_class=predicted_class,
        model_name=model_name,
        model_version=model_version,
    )
    try:
        return export.screening_report(result, source=case_source(case))
    except export.SourceMissing as exc:
        raise ExportUnavailable(str(exc)) from exc


def screening_report_bytes(**kwargs: Any) -> bytes:
    return dataset_bytes(screening_report(**kwargs))


def dicom_send(*, case: Case, dataset: pydicom.Dataset, pacs_name: str, what: str, actor: Any = None) -> dict:
    """STOW-RS of one object to a configured PACS; the audit trail records who sent what where."""
    endpoint = pacs.pacs_endpoint(pacs_name)
    pacs.instances_store(endpoint, [dataset])
    audit_log(
        actor=actor,
        action="update",
        obj=case,
        changes={"dicom_sent": [None, {"what": what, "pacs": endpoint.name}]},
    )
    return {"sent": what, "pacs": endpoint.name}
