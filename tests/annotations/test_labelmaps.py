"""Checking uploaded labelmaps against the case grid (plain Python, no database)."""

import gzip
import os
import tempfile
import tracemalloc

import numpy as np
import pytest
import SimpleITK as sitk

from annotations.labelmaps import (
    Grid,
    LabelmapInvalid,
    label_voxel_counts,
    labelmap_from_nifti_path,
    labelmap_from_upload,
    labelmap_nifti_bytes,
    raw_gzip_bytes,
)

GRID = Grid.of(
    size=(6, 5, 4), spacing=(0.8, 0.8, 1.25), origin=(-10.0, 20.0, 30.5), direction=np.eye(3).ravel()
)


def femur_labels() -> np.ndarray:
    labels = np.zeros(GRID.shape_zyx, np.uint8)
    labels[1:3, 1:3, 0:2] = 1
    labels[1:3, 1:3, 4:6] = 2
    return labels


def nifti_bytes(
    values: np.ndarray, *, spacing=GRID.spacing_xyz, origin=GRID.origin_xyz, direction=GRID.direction
):
    """A mask as another tool would write it: any pixel type, our geometry unless told otherwise."""
    image = sitk.GetImageFromArray(values)
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    image.SetDirection(direction)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "mask.nii.gz")
        sitk.WriteImage(image, path, True)
        with open(path, "rb") as file:
            return file.read()


def test_it_accepts_raw_gzip_labels_on_the_case_grid():
    labels = femur_labels()

    accepted = labelmap_from_upload(content=raw_gzip_bytes(labels), filename="voi.raw.gz", grid=GRID)

    assert np.array_equal(accepted, labels)
    assert label_voxel_counts(accepted) == {"1": 8, "2": 8}


def test_it_accepts_raw_labels_sent_as_several_gzip_members():
    raw = femur_labels().tobytes()
    content = gzip.compress(raw[:50]) + gzip.compress(raw[50:])

    accepted = labelmap_from_upload(content=content, filename="voi.raw.gz", grid=GRID)

    assert np.array_equal(accepted, femur_labels())


def test_it_rejects_raw_labels_of_the_wrong_size():
    too_small = np.zeros((4, 5, 5), np.uint8)

    with pytest.raises(LabelmapInvalid, match="100 voxels but the case grid 6x5x4 has 120"):
        labelmap_from_upload(content=raw_gzip_bytes(too_small), filename="voi.raw.gz", grid=GRID)


@pytest.mark.parametrize("bad_value", [3, 255])
def test_it_rejects_a_label_value_other_than_background_left_and_right(bad_value):
    labels = femur_labels()
    labels[0, 0, 0] = bad_value

    with pytest.raises(LabelmapInvalid, match=f"label values {bad_value}; only 0"):
        labelmap_from_upload(content=raw_gzip_bytes(labels), filename="voi.raw.gz", grid=GRID)


def test_it_rejects_garbage_that_is_not_gzip():
    with pytest.raises(LabelmapInvalid, match="not valid gzip"):
        labelmap_from_upload(content=b"definitely not a labelmap", filename="voi.raw.gz", grid=GRID)


def test_it_rejects_a_truncated_gzip_stream():
    content = raw_gzip_bytes(femur_labels())[:-12]

    with pytest.raises(LabelmapInvalid, match="truncated|not valid gzip"):
        labelmap_from_upload(content=content, filename="voi.raw.gz", grid=GRID)


def test_a_gzip_bomb_is_stopped_without_decompressing_it():
    # 64 MiB of zeros compress to about 64 KiB; decompressed in full they would be 500 000 times the grid.
    bomb = gzip.compress(bytes(64 << 20), compresslevel=9)
    tracemalloc.start()
    try:
        with pytest.raises(LabelmapInvalid, match="decompresses to more than"):
            labelmap_from_upload(content=bomb, filename="voi.raw.gz", grid=GRID)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 << 20


def test_it_rejects_a_file_that_is_neither_raw_nor_nifti():
    with pytest.raises(LabelmapInvalid, match="neither raw uint8 labels"):
        labelmap_from_upload(content=b"x", filename="voi.png", grid=GRID)


@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.float32])
def test_it_accepts_a_nifti_mask_from_another_tool_on_the_case_grid(dtype):
    labels = femur_labels()

    accepted = labelmap_from_upload(
        content=nifti_bytes(labels.astype(dtype)), filename="Mask.NII.GZ", grid=GRID
    )

    assert accepted.dtype == np.uint8
    assert np.array_equal(accepted, labels)


def test_it_accepts_an_uncompressed_nifti_mask():
    content = gzip.decompress(nifti_bytes(femur_labels()))

    accepted = labelmap_from_upload(content=content, filename="mask.nii", grid=GRID)

    assert np.array_equal(accepted, femur_labels())


@pytest.mark.parametrize(
    ("geometry", "message"),
    [
        ({"spacing": (0.8, 0.8, 2.5)}, "spacing"),
        ({"origin": (-10.0, 20.0, 31.5)}, "origin"),
        ({"direction": (-1.0, 0, 0, 0, -1.0, 0, 0, 0, 1.0)}, "direction"),
    ],
)
def test_it_rejects_a_nifti_mask_whose_geometry_differs_from_the_case(geometry, message):
    with pytest.raises(LabelmapInvalid, match=message):
        labelmap_from_upload(content=nifti_bytes(femur_labels(), **geometry), filename="m.nii.gz", grid=GRID)


def test_it_accepts_float32_rounding_of_the_geometry():
    nudged = tuple(s + 1e-6 for s in GRID.spacing_xyz)

    labelmap_from_upload(content=nifti_bytes(femur_labels(), spacing=nudged), filename="m.nii.gz", grid=GRID)


def test_it_rejects_a_nifti_mask_of_the_wrong_shape():
    wrong = np.zeros((4, 5, 7), np.uint8)

    with pytest.raises(LabelmapInvalid, match="7x5x4 voxels but the case grid is 6x5x4"):
        labelmap_from_upload(content=nifti_bytes(wrong), filename="m.nii.gz", grid=GRID)


def test_it_rejects_a_nifti_mask_with_fractional_values():
    values = femur_labels().astype(np.float32)
    values[0, 0, 0] = 0.5

    with pytest.raises(LabelmapInvalid, match="values other than 0"):
        labelmap_from_upload(content=nifti_bytes(values), filename="m.nii.gz", grid=GRID)


def test_it_rejects_a_file_named_nifti_that_is_not():
    with pytest.raises(LabelmapInvalid, match="not a readable NIfTI"):
        labelmap_from_upload(content=bytes(400), filename="m.nii", grid=GRID)


def test_a_stored_labelmap_reads_back_with_the_case_geometry(tmp_path):
    path = tmp_path / "stored.nii.gz"
    path.write_bytes(labelmap_nifti_bytes(femur_labels(), grid=GRID))

    image = sitk.ReadImage(str(path))

    assert Grid.of_image(image).size_xyz == GRID.size_xyz
    assert image.GetPixelID() == sitk.sitkUInt8
    assert np.array_equal(labelmap_from_nifti_path(str(path), grid=GRID), femur_labels())


def test_a_grid_refuses_a_negative_size():
    with pytest.raises(ValueError, match="three positive integers"):
        Grid.of(size=(0, 5, 4), spacing=(1, 1, 1), origin=(0, 0, 0), direction=np.eye(3).ravel())
