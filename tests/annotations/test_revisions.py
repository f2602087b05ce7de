"""Saving VOI revisions: append-only, 409 on a stale base, 400 and nothing stored on a bad labelmap."""

import gzip
import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import SimpleITK as sitk
from django.core.files.uploadedfile import SimpleUploadedFile

from annotations.models import Assignment, VOIRevision

from reading_helpers import labelmap_for, painted, raw_upload

pytestmark = pytest.mark.django_db


def revisions_url(assignment):
    return f"/api/assignments/{assignment.pk}/revisions/"


def save(client, assignment, labels, *, base="", name="labelmap.raw.gz", **extra):
    upload = raw_upload(labels, name=name) if isinstance(labels, np.ndarray) else labels
    return client.post(
        revisions_url(assignment), {"base_revision": base, "labelmap": upload, **extra}, format="multipart"
    )


def stored_files(settings) -> list[Path]:
    return [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file() and "annotations" in p.parts]


@pytest.fixture
def assignment(make_assignment, reader):
    return make_assignment(reader=reader)


def test_a_saved_labelmap_comes_back_voxel_for_voxel(client_of_reader, assignment):
    labels = painted(assignment.case, left=11, right=4)

    created = save(client_of_reader, assignment, labels, edit_count=7, seconds_spent=12.5)
    fetched = client_of_reader.get(f"/api/assignments/{assignment.pk}/labelmap/?revision=current")

    assert created.status_code == 201
    assert created.json()["voxels"] == {"1": 11, "2": 4}
    assert (created.json()["edit_count"], created.json()["seconds_spent"]) == (7, 12.5)
    assert fetched["X-Labelmap-Encoding"] == "gzip"
    body = gzip.decompress(b"".join(fetched.streaming_content))
    assert np.array_equal(np.frombuffer(body, np.uint8).reshape(labels.shape), labels)


def test_the_stored_nifti_has_the_case_grid_and_its_sha256(client_of_reader, assignment):
    import hashlib

    save(client_of_reader, assignment, painted(assignment.case))

    revision = VOIRevision.objects.get()
    image = sitk.ReadImage(revision.labelmap.path)
    assert list(image.GetSize()) == assignment.case.size
    assert np.allclose(image.GetSpacing(), assignment.case.spacing)
    assert np.allclose(image.GetOrigin(), assignment.case.origin)
    assert image.GetPixelID() == sitk.sitkUInt8
    assert revision.labelmap_sha256 == hashlib.sha256(Path(revision.labelmap.path).read_bytes()).hexdigest()


def test_each_save_appends_a_revision_based_on_the_previous_one(client_of_reader, assignment):
    first = save(client_of_reader, assignment, painted(assignment.case, left=1)).json()
    second = save(
        client_of_reader, assignment, painted(assignment.case, left=2), base=str(first["id"])
    ).json()

    listed = client_of_reader.get(revisions_url(assignment)).json()

    assert [r["number"] for r in listed] == [1, 2]
    assert second["based_on"] == first["id"]
    assignment.refresh_from_db()
    assert assignment.current_revision_id == second["id"]
    assert assignment.status == Assignment.Status.IN_PROGRESS


def test_a_save_on_a_stale_base_gets_409_and_overwrites_nothing(client_of_reader, assignment, settings):
    first = save(client_of_reader, assignment, painted(assignment.case, left=1)).json()
    save(client_of_reader, assignment, painted(assignment.case, left=2), base=str(first["id"]))
    files_before = stored_files(settings)

    stale = save(client_of_reader, assignment, painted(assignment.case, left=3), base=str(first["id"]))

    assert stale.status_code == 409
    assert "based on revision 1 but revision 2 was saved since" in stale.json()["detail"]
    assert VOIRevision.objects.count() == 2
    assert stored_files(settings) == files_before
    assert VOIRevision.objects.get(number=2).voxels == {"1": 2, "2": 0}


def test_a_first_save_naming_a_base_that_does_not_exist_is_stale(client_of_reader, assignment):
    response = save(client_of_reader, assignment, painted(assignment.case), base="999")

    assert response.status_code == 409
    assert VOIRevision.objects.count() == 0


@pytest.mark.parametrize(
    "bad_upload",
    ["wrong_size", "label_value_3", "garbage", "png", "wrong_spacing_nifti", "empty_base_garbage"],
)
def test_a_bad_labelmap_gets_400_and_leaves_no_row_and_no_file(
    client_of_reader, assignment, settings, bad_upload
):
    case = assignment.case
    labels = labelmap_for(case)
    if bad_upload == "wrong_size":
        upload = raw_upload(labels[:-1])
    elif bad_upload == "label_value_3":
        labels[0, 0, 0] = 3
        upload = raw_upload(labels)
    elif bad_upload in ("garbage", "empty_base_garbage"):
        upload = SimpleUploadedFile("labelmap.raw.gz", b"\x1f\x8b this is not really gzip")
    elif bad_upload == "png":
        upload = SimpleUploadedFile("labelmap.png", b"\x89PNG")
    else:
        upload = SimpleUploadedFile("mask.nii.gz", nifti_bytes(labels, spacing=(9.0, 9.0, 9.0), case=case))

    response = save(client_of_reader, assignment, upload)

    assert response.status_code == 400
    assert response.json()["detail"]
    assert VOIRevision.objects.count() == 0
    assert stored_files(settings) == []
    assignment.refresh_from_db()
    assert assignment.current_revision_id is None


def nifti_bytes(labels, *, case, spacing=None) -> bytes:
    image = sitk.GetImageFromArray(labels)
    image.SetSpacing(spacing or case.spacing)
    image.SetOrigin(case.origin)
    image.SetDirection(case.direction)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "mask.nii.gz")
        sitk.WriteImage(image, path, True)
        return Path(path).read_bytes()


def test_a_nifti_mask_drawn_in_another_tool_is_accepted(client_of_reader, assignment):
    labels = painted(assignment.case, left=6, right=6)
    upload = SimpleUploadedFile("from-itk-snap.nii.gz", nifti_bytes(labels, case=assignment.case))

    response = save(client_of_reader, assignment, upload)

    assert response.status_code == 201
    assert response.json()["voxels"] == {"1": 6, "2": 6}


def test_a_restore_appends_a_copy_of_the_old_revision(client_of_reader, assignment):
    first = save(client_of_reader, assignment, painted(assignment.case, left=9)).json()
    second = save(
        client_of_reader, assignment, painted(assignment.case, left=1), base=str(first["id"])
    ).json()

    restored = client_of_reader.post(f"{revisions_url(assignment)}{first['id']}/restore/")

    assert restored.status_code == 201
    body = restored.json()
    assert (body["number"], body["restored_from"], body["based_on"]) == (3, first["id"], second["id"])
    assert body["voxels"] == first["voxels"]
    assert VOIRevision.objects.count() == 3


def test_submitting_needs_a_saved_revision(client_of_reader, assignment):
    response = client_of_reader.post(f"/api/assignments/{assignment.pk}/submit/")

    assert response.status_code == 400
    assert "save the VOI first" in response.json()["detail"]


def test_a_submitted_voi_can_no_longer_be_edited(client_of_reader, assignment):
    first = save(client_of_reader, assignment, painted(assignment.case)).json()

    submitted = client_of_reader.post(f"/api/assignments/{assignment.pk}/submit/")
    late = save(client_of_reader, assignment, painted(assignment.case, left=2), base=str(first["id"]))

    assert submitted.status_code == 200
    assert submitted.json()["status"] == "submitted"
    assert late.status_code == 409
    assert VOIRevision.objects.count() == 1


def test_labelmap_of_an_assignment_without_revisions_is_no_content(client_of_reader, assignment):
    assert (
        client_of_reader.get(f"/api/assignments/{assignment.pk}/labelmap/?revision=current").status_code
        == 204
    )
    assert (
        client_of_reader.get(f"/api/assignments/{assignment.pk}/labelmap/?revision=start").status_code == 204
    )


def test_the_raw_volume_is_int16_x_fastest_and_cached(client_of_reader, assignment):
    from cases.selectors import case_image

    meta = client_of_reader.get(f"/api/assignments/{assignment.pk}/volume/").json()
    first = client_of_reader.get(meta["raw_url"])
    body = b"".join(first.streaming_content)

    expected = sitk.GetArrayFromImage(case_image(assignment.case))
    assert meta["dtype"] == "int16" and meta["size"] == assignment.case.size
    assert np.array_equal(np.frombuffer(body, "<i2").reshape(expected.shape), expected)
    sidecar = next(Path(assignment.case.volume.path).parent.glob("*.int16.raw"))
    modified = sidecar.stat().st_mtime_ns
    b"".join(client_of_reader.get(meta["raw_url"]).streaming_content)
    assert sidecar.stat().st_mtime_ns == modified


def test_the_start_labelmap_is_the_active_models_prediction(client_of_reader, assignment):
    from django.core.files.base import ContentFile

    from annotations.labelmaps import labelmap_nifti_bytes
    from annotations.selectors import case_grid
    from inference.models import ModelVersion, SegmentationPrediction

    predicted = painted(assignment.case, left=8, right=8)
    active = ModelVersion.objects.create(family="segmentation", number=1, status="active")
    prediction = SegmentationPrediction(case=assignment.case, model_version=active, mask_sha256="ab" * 32)
    prediction.mask.save(
        "p.nii.gz", ContentFile(labelmap_nifti_bytes(predicted, grid=case_grid(assignment.case)))
    )

    response = client_of_reader.get(f"/api/assignments/{assignment.pk}/labelmap/?revision=start")

    assert response.status_code == 200
    assert np.array_equal(
        np.frombuffer(gzip.decompress(response.content), np.uint8).reshape(predicted.shape), predicted
    )
