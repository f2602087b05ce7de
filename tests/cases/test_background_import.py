"""An upload over IMPORT_BACKGROUND_BYTES becomes a background job instead of blocking the request."""

from pathlib import Path

from cases.kinds import IMPORT_FILE_JOB
from cases.models import Case
from jobs.models import Job

from volumes import write_test_volume


def test_a_big_upload_is_imported_by_a_job(
    api_client, coordinator, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_BYTES = 1000
    api_client.force_authenticate(coordinator)
    with (
        django_capture_on_commit_callbacks(execute=True),
        open(write_test_volume(tmp_path / "big.nii.gz"), "rb") as fh,
    ):
        response = api_client.post(
            "/api/cases/import/", {"file": fh, "study_id": "BIG-1"}, format="multipart"
        )
    assert response.status_code == 202, response.json()
    job = Job.objects.get(pk=response.json()["job"]["id"])
    assert job.kind == IMPORT_FILE_JOB and job.status == Job.Status.SUCCEEDED, job.error
    case = Case.objects.get(pk=job.result["case_id"])
    assert case.patient.study_id == "BIG-1"
    assert not any((Path(settings.MEDIA_ROOT) / "staging").glob("*")), "the staged upload is removed"


def test_a_bad_big_upload_is_refused_from_its_header_without_a_job(
    api_client, coordinator, tmp_path, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_BACKGROUND_BYTES = 10
    bad = tmp_path / "bad.nii.gz"
    bad.write_bytes(b"not a nifti at all" * 10)
    api_client.force_authenticate(coordinator)
    with django_capture_on_commit_callbacks(execute=True), open(bad, "rb") as fh:
        response = api_client.post(
            "/api/cases/import/", {"file": fh, "study_id": "BAD-1"}, format="multipart"
        )
    assert response.status_code == 400 and "NIfTI" in response.json()["detail"]
    assert Job.objects.count() == 0
    assert Case.objects.count() == 0
    assert not any((Path(settings.MEDIA_ROOT) / "staging").glob("*"))
