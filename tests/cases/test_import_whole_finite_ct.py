"""Import refuses what is not a whole, finite CT: truncated payloads, NaN/inf, too few voxels, and volumes
whose decompressed size breaks the memory bound. Content checks come before the study-id check, and each
refusal is a 400 (API) or one error line with a non-zero exit (command), storing no row, file or audit entry.
"""

import gzip
import struct
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from django.core.management import CommandError, call_command

from accounts.models import AuditEvent
from cases.models import Case, Patient


def ct_array(shape=(20, 20, 20), dtype=np.int16) -> np.ndarray:
    """Air around a soft-tissue block with bone inside: passes every check but the one under test."""
    data = np.full(shape, -1000, dtype=dtype)
    data[4:-4, 4:-4, :] = 40
    data[8:-8, 8:-8, :] = 900
    return data


def save_nifti(path: Path, data: np.ndarray) -> Path:
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    return path


def truncated_nii_gz(tmp_path) -> Path:
    """A complete, valid gzip stream whose NIfTI payload ends long before the header says it should."""
    raw = bytearray(gzip.decompress(save_nifti(tmp_path / "whole.nii.gz", ct_array()).read_bytes()))
    path = tmp_path / "cut.nii.gz"
    path.write_bytes(gzip.compress(bytes(raw[: 352 + 498 * 2])))
    return path


def truncated_raw_nii(tmp_path) -> Path:
    raw = save_nifti(tmp_path / "whole.nii", ct_array()).read_bytes()
    path = tmp_path / "cut.nii"
    path.write_bytes(raw[: 352 + 498 * 2])  # 498 voxels of 8,000 really there
    return path


def with_value(tmp_path, value: float) -> Path:
    data = ct_array(dtype=np.float32)
    data[10, 10, 10] = value
    return save_nifti(tmp_path / "float.nii.gz", data)


def memory_bomb(tmp_path) -> Path:
    """A few kB of gzip declaring float64 1024 x 1024 x 300 voxels: 2.5 GB once decompressed."""
    path = save_nifti(tmp_path / "bomb.nii.gz", ct_array(dtype=np.float64))
    raw = bytearray(gzip.decompress(path.read_bytes()))
    header = nib.Nifti1Header(bytes(raw[:348]), check=False)
    header["dim"] = [3, 1024, 1024, 300, 1, 1, 1, 1]
    raw[:348] = header.binaryblock
    path.write_bytes(gzip.compress(bytes(raw)))
    return path


BAD_INPUTS = {
    "truncated .nii.gz": (truncated_nii_gz, "truncated"),
    "truncated .nii": (truncated_raw_nii, "truncated"),
    "NaN": (lambda tmp: with_value(tmp, float("nan")), "NaN"),
    "infinity": (lambda tmp: with_value(tmp, float("inf")), "infinite"),
    "15 slices": (lambda tmp: save_nifti(tmp / "slab.nii.gz", ct_array((20, 20, 15))), "15 voxels along z"),
    "memory bomb": (memory_bomb, "over the limit"),
}


@pytest.fixture
def nothing_stored(db, settings):
    def check():
        assert Case.objects.count() == 0 and Patient.objects.count() == 0
        assert AuditEvent.objects.count() == 0
        assert [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()] == []

    return check


@pytest.mark.parametrize("kind", BAD_INPUTS)
def test_the_api_refuses_it_with_a_400_naming_the_problem_before_asking_for_a_study_id(
    api_client, coordinator, tmp_path, nothing_stored, kind
):
    make, words = BAD_INPUTS[kind]
    path = make(tmp_path)
    api_client.force_authenticate(coordinator)
    with open(path, "rb") as fh:
        response = api_client.post("/api/cases/import/", {"file": fh}, format="multipart")  # no study id
    assert response.status_code == 400, response.content
    assert words in response.json()["detail"] and "study id" not in response.json()["detail"]
    nothing_stored()


@pytest.mark.parametrize("kind", BAD_INPUTS)
def test_the_command_refuses_it_with_one_error_line(tmp_path, nothing_stored, kind, capsys):
    make, words = BAD_INPUTS[kind]
    path = make(tmp_path)
    with pytest.raises(CommandError) as refused:
        call_command("import_cases", str(path), "--study-id", "S-1")
    assert words in str(refused.value) and "\n" not in str(refused.value)
    assert capsys.readouterr().err == ""
    nothing_stored()


def test_a_big_upload_is_refused_from_its_header_before_any_job_starts(
    api_client, coordinator, tmp_path, settings, nothing_stored
):
    from jobs.models import Job

    settings.IMPORT_BACKGROUND_BYTES = 1000
    api_client.force_authenticate(coordinator)
    with open(memory_bomb(tmp_path), "rb") as fh:
        response = api_client.post("/api/cases/import/", {"file": fh, "study_id": "S-1"}, format="multipart")
    assert response.status_code == 400
    assert Job.objects.count() == 0
    nothing_stored()


def test_a_big_truncated_upload_fails_its_job_and_stores_nothing(
    api_client, coordinator, tmp_path, settings, django_capture_on_commit_callbacks
):
    from jobs.models import Job

    settings.IMPORT_BACKGROUND_BYTES = 1000
    api_client.force_authenticate(coordinator)
    with django_capture_on_commit_callbacks(execute=True), open(truncated_nii_gz(tmp_path), "rb") as fh:
        response = api_client.post("/api/cases/import/", {"file": fh, "study_id": "S-1"}, format="multipart")
    assert response.status_code == 202
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED and "truncated" in job.error
    assert Case.objects.count() == 0
    assert [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()] == []


def test_the_memory_bound_is_a_setting(tmp_path, settings):
    from cases.validation import ImportRejected, check_nifti_header

    path = save_nifti(tmp_path / "ok.nii.gz", ct_array((20, 20, 20), dtype=np.float64))  # 64,000 bytes
    settings.IMPORT_MAX_VOLUME_BYTES = 64_000
    check_nifti_header(path)
    settings.IMPORT_MAX_VOLUME_BYTES = 63_999
    with pytest.raises(ImportRejected, match="64,000 bytes in memory"):
        check_nifti_header(path)


def test_a_nan_intensity_scaling_is_refused_from_the_header(tmp_path):
    from cases.validation import ImportRejected, check_nifti_header

    path = save_nifti(tmp_path / "scaled.nii", ct_array())
    raw = bytearray(path.read_bytes())
    raw[112:116] = struct.pack("<f", float("nan"))  # scl_slope
    path.write_bytes(bytes(raw))
    with pytest.raises(ImportRejected, match="scl_slope"):
        check_nifti_header(path)


def test_a_whole_finite_float_ct_still_imports(api_client, coordinator, tmp_path):
    api_client.force_authenticate(coordinator)
    with open(save_nifti(tmp_path / "float.nii.gz", ct_array(dtype=np.float32)), "rb") as fh:
        response = api_client.post("/api/cases/import/", {"file": fh, "study_id": "S-1"}, format="multipart")
    assert response.status_code == 201, response.json()
