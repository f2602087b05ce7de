"""A reader's VOI revision and the approved reference VOI download as DICOM SEG (staff only: readers stay
blinded) and go to the PACS by STOW-RS; the SEG holds the VOI on the source slices."""

import io

import highdicom as hd
import numpy as np
import pytest

from annotations.labelmaps import labelmap_nifti_bytes
from annotations.selectors import case_grid
from annotations.services import assignment_create, assignment_submit, review_approve, revision_save
from cases.models import Cohort

from dicom_helpers import imported_dicom_case, two_femur_labels

pytest_plugins = ["orthanc_fixtures"]


@pytest.fixture
def approved(tmp_path, reader, senior, coordinator):
    case, headers = imported_dicom_case(tmp_path / "ct")
    labels = two_femur_labels(case)
    cohort = Cohort.objects.create(name="Export")
    cohort.cases.add(case)
    assignment = assignment_create(case=case, reader=reader, cohort=cohort, created_by=coordinator)
    revision = revision_save(
        assignment=assignment,
        user=reader,
        base_revision_id=None,
        filename="voi.nii.gz",
        content=labelmap_nifti_bytes(labels, grid=case_grid(case)),
    )
    assignment_submit(assignment=assignment, user=reader)
    review_approve(assignment=assignment, reviewer=senior)
    return case, headers, labels, revision


def _frames(content: bytes, headers) -> np.ndarray:
    seg = hd.seg.segread(io.BytesIO(content))
    assert seg.StudyInstanceUID == headers[0].StudyInstanceUID
    return seg.get_pixels_by_source_instance([h.SOPInstanceUID for h in headers], combine_segments=True)


def test_the_reference_voi_downloads_as_a_seg_on_the_source_slices(api_client, coordinator, approved):
    case, headers, labels, _ = approved
    api_client.force_authenticate(coordinator)
    response = api_client.get(f"/api/cases/{case.pk}/reference-voi/seg.dcm")
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/dicom"
    assert np.array_equal(_frames(response.content, headers), labels)


def test_any_revision_downloads_as_a_seg(api_client, pi, approved):
    case, headers, labels, revision = approved
    api_client.force_authenticate(pi)
    response = api_client.get(f"/api/revisions/{revision.pk}/seg.dcm")
    assert response.status_code == 200
    assert np.array_equal(_frames(response.content, headers), labels)


def test_readers_cannot_download_segs(api_client, reader, approved):
    case, _, _, revision = approved
    api_client.force_authenticate(reader)
    assert api_client.get(f"/api/cases/{case.pk}/reference-voi/seg.dcm").status_code == 403
    assert api_client.get(f"/api/revisions/{revision.pk}/seg.dcm").status_code == 403


def test_a_nifti_case_has_no_dicom_export(api_client, coordinator, make_assignment, reader, senior):
    assignment = make_assignment(reader=reader)
    case = assignment.case
    revision = revision_save(
        assignment=assignment,
        user=reader,
        base_revision_id=None,
        filename="voi.nii.gz",
        content=labelmap_nifti_bytes(two_femur_labels(case), grid=case_grid(case)),
    )
    api_client.force_authenticate(coordinator)
    response = api_client.get(f"/api/revisions/{revision.pk}/seg.dcm")
    assert response.status_code == 409
    assert "not imported from DICOM" in response.json()["detail"]


def test_the_reference_seg_goes_to_the_pacs(api_client, coordinator, approved, orthanc):
    case, headers, labels, _ = approved
    api_client.force_authenticate(coordinator)
    response = api_client.post(
        f"/api/cases/{case.pk}/reference-voi/seg/send/", {"pacs": "test-pacs"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert response.json() == {"sent": "SEG", "pacs": "test-pacs"}
    stored = orthanc.client().search_for_instances(search_filters={"Modality": "SEG"})
    assert len(stored) == 1
    unknown = api_client.post(
        f"/api/cases/{case.pk}/reference-voi/seg/send/", {"pacs": "elsewhere"}, format="json"
    )
    assert unknown.status_code == 400 and "no PACS named 'elsewhere'" in unknown.json()["detail"]


def test_the_case_page_links_the_reference_seg_for_staff(client, coordinator, approved):
    case = approved[0]
    client.force_login(coordinator)
    assert f"/api/cases/{case.pk}/reference-voi/seg.dcm" in client.get(f"/cases/{case.pk}/").content.decode()
