"""A web worker never holds more than a small, fixed amount of an upload in memory: Django streams a big
upload to a temporary file, the import view moves that file on without reading it, and only its header
is read in the request."""

import numpy as np
import pytest
from django.core.files.uploadedfile import TemporaryUploadedFile

from cases.models import Case
from jobs.models import Job

from volumes import write_test_volume


def test_uploads_over_2_5_mb_are_streamed_to_disk(settings):
    assert settings.FILE_UPLOAD_MAX_MEMORY_SIZE <= 2_621_440


@pytest.fixture
def reading_an_upload_fails(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a view read a whole upload into memory")

    monkeypatch.setattr(TemporaryUploadedFile, "read", refuse)
    monkeypatch.setattr(TemporaryUploadedFile, "chunks", refuse)


def test_a_big_volume_is_handed_to_a_job_without_the_view_reading_it(
    api_client, coordinator, tmp_path, settings, reading_an_upload_fails
):
    settings.IMPORT_BACKGROUND_BYTES = 1024**2
    path = write_test_volume(tmp_path / "big.nii", size=(160, 160, 40))  # 2 MB of voxels, 2 MB file
    path.write_bytes(path.read_bytes() + b"\0" * 1024**2)  # past the in-memory upload size
    api_client.force_authenticate(coordinator)
    with open(path, "rb") as fh:
        response = api_client.post(
            "/api/cases/import/", {"file": fh, "study_id": "BIG-1"}, format="multipart"
        )
    assert response.status_code == 202, response.json()
    assert Job.objects.get().params["path"].endswith(".nii")


def test_a_labelmap_over_the_upload_bound_is_refused_unread(
    api_client, make_case, reader, coordinator, reading_an_upload_fails, settings
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from annotations.apis import LABELMAP_MAX_UPLOAD_BYTES
    from annotations.services import assignment_create
    from cases.models import Cohort

    case = make_case()
    cohort = Cohort.objects.create(name="Upload bound")
    assignment = assignment_create(
        case=case, reader=reader, cohort=cohort, created_by=coordinator, study_role="primary"
    )
    api_client.force_authenticate(reader)
    big = SimpleUploadedFile("mask.nii", np.zeros(LABELMAP_MAX_UPLOAD_BYTES + 1, np.uint8).tobytes())
    response = api_client.post(
        f"/api/assignments/{assignment.pk}/revisions/", {"labelmap": big}, format="multipart"
    )
    assert response.status_code == 413
    assert Case.objects.count() == 1
