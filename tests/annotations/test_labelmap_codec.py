"""The fast save path: the viewer's labelled-box upload and the stitched NIfTI / raw encoding.

The speed itself is measured by bench/bench_viewer.py; these tests hold the behaviour: a box upload means
exactly the labels it would mean as a whole grid, every bad box is refused with nothing stored, and the
stored files are ordinary gzip that SimpleITK, nibabel and Python's gzip read back voxel for voxel.
"""

import gzip
import os
import tempfile
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import SimpleITK as sitk
from django.core.files.uploadedfile import SimpleUploadedFile

from annotations.labelmaps import (
    Grid,
    LabelBox,
    LabelmapInvalid,
    encode_labelmap,
    label_voxel_counts,
    labelmap_from_nifti_path,
    labelmap_from_upload,
)

# Oblique on purpose: a turned and flipped direction catches any slip in the LPS -> RAS header.
GRID = Grid.of(
    size=(40, 36, 30), spacing=(0.7, 0.8, 1.25), origin=(-12.5, 30.0, -400.0),
    direction=(0.0, -1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, -1.0),
)  # fmt: skip


def femur_labels(grid: Grid = GRID, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    labels = np.zeros(grid.shape_zyx, np.uint8)
    labels[8:20, 10:25, 5:15] = 1
    labels[9:22, 12:26, 24:33] = 2
    labels[8:22, 10:26, 5:33][rng.random((14, 16, 28)) < 0.1] = 0  # ragged, as a reader's strokes are
    return labels


def box_upload(labels: np.ndarray) -> tuple[bytes, LabelBox]:
    box = LabelBox.around(labels)
    return gzip.compress(np.ascontiguousarray(labels[box.slices()]).tobytes(), 1), box


def read_nifti(data: bytes) -> sitk.Image:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.nii.gz")
        Path(path).write_bytes(data)
        return sitk.ReadImage(path)


def test_a_box_upload_means_the_same_labels_as_the_whole_grid():
    labels = femur_labels()
    content, box = box_upload(labels)

    accepted = labelmap_from_upload(content=content, filename="voi.box.gz", grid=GRID, box=box)

    assert box.offset_xyz == (5, 10, 8) and box.size_xyz == (28, 16, 14)
    assert np.array_equal(accepted, labels)


def test_an_empty_box_is_an_empty_labelmap():
    box = LabelBox.around(np.zeros(GRID.shape_zyx, np.uint8))

    accepted = labelmap_from_upload(content=gzip.compress(b""), filename="voi.box.gz", grid=GRID, box=box)

    assert box.voxel_count == 0
    assert not accepted.any() and accepted.shape == GRID.shape_zyx


@pytest.mark.parametrize(
    "offset, size, message",
    [
        ((5, 10, 8), (36, 16, 14), "outside the case grid"),  # 5 + 36 > 40 voxels in x
        ((5, 10, 8), (28, 16, 13), "more than"),  # one slice fewer than the bytes sent
        ((5, 10, 8), (28, 16, 15), "needs"),  # one slice more
    ],
)
def test_it_rejects_a_box_that_does_not_fit_its_bytes_or_the_grid(offset, size, message):
    content, _ = box_upload(femur_labels())

    with pytest.raises(LabelmapInvalid, match=message):
        labelmap_from_upload(
            content=content, filename="voi.box.gz", grid=GRID, box=LabelBox(offset_xyz=offset, size_xyz=size)
        )


def test_it_rejects_a_box_with_labels_other_than_0_1_2():
    labels = femur_labels()
    labels[10, 12, 6] = 3
    content, box = box_upload(labels)

    with pytest.raises(LabelmapInvalid, match="3"):
        labelmap_from_upload(content=content, filename="voi.box.gz", grid=GRID, box=box)


def test_it_rejects_a_box_upload_without_its_box_or_with_a_malformed_one():
    content, _ = box_upload(femur_labels())
    with pytest.raises(LabelmapInvalid, match="box_offset"):
        labelmap_from_upload(content=content, filename="voi.box.gz", grid=GRID)
    with pytest.raises(LabelmapInvalid, match="three integers"):
        LabelBox.parse(offset="1,2", size="3,4,x")
    with pytest.raises(LabelmapInvalid, match="negative"):
        LabelBox.parse(offset="-1,0,0", size="1,1,1")


def test_counting_inside_the_box_gives_the_whole_grid_counts():
    labels = femur_labels()
    box = LabelBox.around(labels)

    assert label_voxel_counts(labels, box=box) == label_voxel_counts(labels)
    assert label_voxel_counts(labels)["1"] == int((labels == 1).sum())


@pytest.mark.parametrize("case", ["femurs", "empty", "one corner voxel", "whole grid"])
def test_the_stored_files_read_back_voxel_for_voxel_with_the_case_geometry(case):
    labels = {
        "femurs": femur_labels(),
        "empty": np.zeros(GRID.shape_zyx, np.uint8),
        "one corner voxel": np.pad(np.full((1, 1, 1), 2, np.uint8), [(29, 0), (35, 0), (39, 0)]),
        "whole grid": np.random.default_rng(1).integers(0, 3, GRID.shape_zyx, dtype=np.uint8),
    }[case]

    encoded = encode_labelmap(labels, grid=GRID)
    image = read_nifti(encoded.nifti_gz)

    assert gzip.decompress(encoded.raw_gz) == labels.tobytes()
    assert np.array_equal(sitk.GetArrayFromImage(image), labels)
    assert np.allclose(image.GetSpacing(), GRID.spacing_xyz, atol=1e-5)
    assert np.allclose(image.GetOrigin(), GRID.origin_xyz, atol=1e-4)
    assert np.allclose(image.GetDirection(), GRID.direction, atol=1e-6)


def test_the_stored_nifti_is_what_nibabel_expects_of_a_mask():
    labels = femur_labels()
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "m.nii.gz")
        Path(path).write_bytes(encode_labelmap(labels, grid=GRID).nifti_gz)
        image = nib.Nifti1Image.from_filename(path)
        data = np.asarray(image.dataobj)
        assert labelmap_from_nifti_path(path, grid=GRID).shape == GRID.shape_zyx

    assert image.get_data_dtype() == np.uint8
    assert int(image.header["qform_code"]) == int(image.header["sform_code"]) == 1
    assert np.array_equal(data.transpose(2, 1, 0), labels)  # NIfTI is x fastest, our array is [z, y, x]


@pytest.mark.django_db
def test_the_api_accepts_a_box_upload_and_refuses_a_bad_box_storing_nothing(
    api_client, reader, make_assignment, settings
):
    assignment = make_assignment(reader=reader, size=(24, 20, 16))
    nx, ny, nz = assignment.case.size
    labels = np.zeros((nz, ny, nx), np.uint8)
    labels[3:6, 4:9, 2:7] = 1
    labels[4:7, 5:10, 14:20] = 2
    content, box = box_upload(labels)
    api_client.force_authenticate(reader)
    url = f"/api/assignments/{assignment.pk}/revisions/"

    def post(offset, size):
        upload = SimpleUploadedFile("labelmap.box.gz", content, content_type="application/octet-stream")
        return api_client.post(url, {"base_revision": "", "labelmap": upload, "box_offset": offset,
                                     "box_size": size}, format="multipart")  # fmt: skip

    refused = post("20,4,3", "18,6,4")  # reaches past x = 24
    malformed = post("2,4", "18,6,4")
    media_after_refusals = [p for p in Path(settings.MEDIA_ROOT).rglob("*.gz") if "annotations" in p.parts]
    revisions_after_refusals = assignment.revisions.count()
    created = post(",".join(map(str, box.offset_xyz)), ",".join(map(str, box.size_xyz)))
    fetched = api_client.get(f"/api/assignments/{assignment.pk}/labelmap/?revision=current")

    assert refused.status_code == 400 and "outside the case grid" in refused.json()["detail"]
    assert malformed.status_code == 400 and "three integers" in malformed.json()["detail"]
    assert media_after_refusals == [] and revisions_after_refusals == 0
    assert created.status_code == 201, created.json()
    assert created.json()["voxels"] == {"1": 75, "2": 90}
    assert "save;dur=" in created["Server-Timing"]
    body = gzip.decompress(b"".join(fetched.streaming_content))
    assert np.array_equal(np.frombuffer(body, np.uint8).reshape(labels.shape), labels)
