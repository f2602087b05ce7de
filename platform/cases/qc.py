"""Writes of automatic QC on cases: storing the findings of platform/imageqc.

A finding is stored once per (case, source, code, side). Running a source again replaces its open findings
and leaves the decided ones (confirmed or dismissed, services.qc_finding_confirm / _dismiss) as they
were, so a coordinator's decision is never undone by a rerun.
"""

from __future__ import annotations

import logging

import SimpleITK as sitk
from django.conf import settings
from django.db import transaction

from imageqc import DEFAULT_MAX_SLICE_THICKNESS_MM, ImageQC, QCFlag, image_qc

from .models import Case, QCFinding

log = logging.getLogger(__name__)
IMPORT_SOURCE = "import"


def case_image_qc(image: sitk.Image, *, slice_thickness_mm: float | None = None) -> ImageQC:
    """The image-level QC of a CT with the study's slice-thickness limit (setting QC_MAX_SLICE_THICKNESS_MM)."""
    limit = float(getattr(settings, "QC_MAX_SLICE_THICKNESS_MM", DEFAULT_MAX_SLICE_THICKNESS_MM))
    return image_qc(image, slice_thickness_mm=slice_thickness_mm, max_slice_thickness_mm=limit)


def case_import_qc_run(*, case: Case, image: sitk.Image) -> list[QCFinding]:
    """The image checks of a freshly imported case, stored as its "import" findings. A CT the checks cannot
    read is logged, not refused: the import itself already validated it."""
    try:
        result = case_image_qc(image, slice_thickness_mm=case.slice_thickness_mm)
    except (ValueError, RuntimeError) as error:
        log.warning("QC of case %s could not run: %s", case.pk, error)
        return []
    return case_qc_record(case=case, flags=result.flags, source=IMPORT_SOURCE)


@transaction.atomic
def case_qc_record(*, case: Case, flags: list[QCFlag], source: str) -> list[QCFinding]:
    """Store a source's findings on a case: open ones it no longer raises go, decided ones stay."""
    keys = {(flag.code, flag.side) for flag in flags}
    stale = case.qc_findings.filter(source=source, status=QCFinding.Status.OPEN)
    for finding in stale:
        if (finding.code, finding.side) not in keys:
            finding.delete()
    stored = []
    for flag in flags:
        finding, created = QCFinding.objects.get_or_create(
            case=case,
            source=source,
            code=flag.code,
            side=flag.side,
            defaults={"reason": flag.reason, "suggested_exclusion": flag.suggested_exclusion},
        )
        if not created and finding.status == QCFinding.Status.OPEN and finding.reason != flag.reason:
            finding.reason = flag.reason
            finding.save(update_fields=["reason"])
        stored.append(finding)
    return stored
