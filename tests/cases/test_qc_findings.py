"""Automatic QC on import: findings stored per side with their reason, shown on the case page, and a
coordinator confirms one as an exclusion (recorded with who confirmed) or dismisses it."""

import numpy as np
import pytest
import SimpleITK as sitk

from accounts.models import AuditEvent
from cases.models import Exclusion, QCFinding
from cases.qc import case_qc_record
from cases.services import case_import, qc_finding_confirm, qc_finding_dismiss
from cases.validation import ImportRejected
from imageqc import QCFlag
from phantom.case import CaseOptions, generate_case


def phantom_import(tmp_path, study_id: str, *, crop_above_pelvis: bool = False, **options):
    region = "abdomen" if crop_above_pelvis else "pelvis"
    case = generate_case(
        seed=41, index=len(study_id), options=CaseOptions(matrix=96, region=region, readers=False, **options)
    )
    image = case.image
    if crop_above_pelvis:
        first = int(np.ceil((case.anatomy.crest_z + 20.0 - case.grid.origin[2]) / case.grid.spacing[2]))
        image = image[:, :, first:]
    path = tmp_path / f"{study_id}.nii.gz"
    sitk.WriteImage(image, str(path))
    return case_import(
        path=path, study_id=study_id, metadata={"slice_thickness_mm": options.get("slice_mm", 1.25)}
    ).case


@pytest.fixture
def upper_abdominal_case(db, tmp_path):
    return phantom_import(tmp_path, "ABD-1", crop_above_pelvis=True)


def test_an_upper_abdominal_ct_is_stored_with_no_femur_on_either_side(upper_abdominal_case):
    findings = upper_abdominal_case.qc_findings.all()
    assert {(f.code, f.side, f.source) for f in findings} == {
        ("no_femur", "left", "import"),
        ("no_femur", "right", "import"),
    }
    assert all(
        f.status == QCFinding.Status.OPEN and f.suggested_exclusion == "incomplete_ct" for f in findings
    )


def test_a_clean_hip_ct_is_stored_without_findings(db, tmp_path):
    assert phantom_import(tmp_path, "CLEAN-1", exclusion="").qc_findings.count() == 0


def test_a_prosthesis_is_stored_as_metal_on_its_side(db, tmp_path):
    case = phantom_import(tmp_path, "HIP-1", exclusion="hip_replacement")
    assert [(f.code, f.suggested_exclusion) for f in case.qc_findings.all()] == [("metal", "hip_replacement")]


def test_thick_slices_are_a_whole_image_finding(db, tmp_path, settings):
    settings.QC_MAX_SLICE_THICKNESS_MM = 2.0
    case = phantom_import(tmp_path, "THICK-1", exclusion="", slice_mm=2.5)
    assert [(f.code, f.side) for f in case.qc_findings.all()] == [("thick_slices", "")]


def test_confirming_records_the_exclusion_and_who_confirmed(upper_abdominal_case, coordinator):
    finding = upper_abdominal_case.qc_findings.get(side="left")
    qc_finding_confirm(finding=finding, actor=coordinator)
    finding.refresh_from_db()
    exclusion = Exclusion.objects.get(case=upper_abdominal_case)
    assert exclusion.reason == "incomplete_ct" and exclusion.created_by == coordinator
    assert "no femur in the field of view" in exclusion.note
    assert finding.status == QCFinding.Status.CONFIRMED and finding.decided_by == coordinator
    assert finding.exclusion == exclusion and finding.decided_at is not None
    assert AuditEvent.objects.filter(
        model="cases.qcfinding", object_id=str(finding.pk), actor=coordinator
    ).exists()


def test_the_coordinator_may_confirm_under_another_reason(upper_abdominal_case, coordinator):
    finding = upper_abdominal_case.qc_findings.get(side="right")
    qc_finding_confirm(finding=finding, actor=coordinator, reason="other")
    assert Exclusion.objects.get(case=upper_abdominal_case).reason == "other"
    with pytest.raises(ImportRejected, match="unknown exclusion reason"):
        qc_finding_confirm(
            finding=upper_abdominal_case.qc_findings.get(side="left"), actor=coordinator, reason="bored"
        )


def test_dismissing_keeps_the_case_included(upper_abdominal_case, coordinator):
    finding = upper_abdominal_case.qc_findings.get(side="left")
    qc_finding_dismiss(finding=finding, actor=coordinator)
    finding.refresh_from_db()
    assert finding.status == QCFinding.Status.DISMISSED and finding.decided_by == coordinator
    assert not Exclusion.objects.filter(case=upper_abdominal_case).exists()
    with pytest.raises(ImportRejected, match="already dismissed"):
        qc_finding_confirm(finding=finding, actor=coordinator)


def test_a_rerun_replaces_open_findings_and_keeps_decided_ones(upper_abdominal_case, coordinator):
    left = upper_abdominal_case.qc_findings.get(side="left")
    qc_finding_dismiss(finding=left, actor=coordinator)
    case_qc_record(
        case=upper_abdominal_case,
        flags=[QCFlag("metal", "right", "metal next to the right femur")],
        source="import",
    )
    kept = {(f.code, f.side, f.status) for f in upper_abdominal_case.qc_findings.all()}
    assert kept == {("no_femur", "left", "dismissed"), ("metal", "right", "open")}


def test_the_case_page_shows_the_findings_and_lets_the_coordinator_confirm(
    client, upper_abdominal_case, coordinator
):
    client.force_login(coordinator)
    page = client.get(f"/cases/{upper_abdominal_case.pk}/").content.decode()
    assert "Automatic QC" in page and "no femur in the field of view" in page and "Confirm exclusion" in page
    finding = upper_abdominal_case.qc_findings.get(side="left")
    response = client.post(f"/cases/qc/{finding.pk}/confirm/", {"reason": "incomplete_ct"})
    assert response.status_code == 302
    page = client.get(f"/cases/{upper_abdominal_case.pk}/").content.decode()
    assert "Confirmed as an exclusion by coordinator" in page


def test_a_reader_cannot_decide(client, upper_abdominal_case, reader):
    client.force_login(reader)
    finding = upper_abdominal_case.qc_findings.get(side="left")
    assert client.post(f"/cases/qc/{finding.pk}/dismiss/").status_code == 403
    finding.refresh_from_db()
    assert finding.status == QCFinding.Status.OPEN
