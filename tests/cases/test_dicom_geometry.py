"""Slices that do not make a regular volume are never read wrong: gantry tilt and uneven spacing are
resampled with a note, missing and conflicting slices are refused, copies of one slice are dropped."""

import math
import shutil

import numpy as np
import pytest
import SimpleITK as sitk

from cases.models import Case
from cases.services import case_import
from cases.validation import ImportRejected

from dicom_helpers import write_ct_series

# A linear HU field over the patient (HU per mm along x, y, z): linear interpolation reproduces it
# exactly, so any voxel read at the wrong place shows.
GRADIENT = np.array([20.0, 15.0, 25.0])
BASE_HU = -400.0
ROWS, COLUMNS = 40, 24


def field(points: np.ndarray) -> np.ndarray:
    return BASE_HU + points @ GRADIENT


def write_series(folder, positions, orientation=(1, 0, 0, 0, 1, 0), pixel=1.0):
    """Slices whose every pixel holds the field at its place in the patient."""
    row, column = np.array(orientation[:3], float), np.array(orientation[3:], float)
    r, c = np.meshgrid(np.arange(ROWS), np.arange(COLUMNS), indexing="ij")
    slices = []
    for position in positions:
        points = np.asarray(position) + (c[..., None] * row + r[..., None] * column) * pixel
        slices.append(np.round(field(points)).astype(np.int16))
    return write_ct_series(
        folder,
        size=(COLUMNS, ROWS, len(positions)),
        spacing=(pixel, pixel, 2.0),
        positions=positions,
        orientation=orientation,
        hu=np.stack(slices),
    )


def assert_reads_the_field(case: Case, *, margin_rows=10):
    image = sitk.ReadImage(case.volume.path)
    values = sitk.GetArrayFromImage(image)  # (z, y, x)
    nz, ny, nx = values.shape
    errors = []
    for k in range(nz):
        for j in range(margin_rows, ny - margin_rows, 3):
            for i in range(2, nx - 2, 3):
                point = np.array(image.TransformIndexToPhysicalPoint((i, j, k)))
                errors.append(abs(float(values[k, j, i]) - field(point)))
    assert max(errors) <= 1.0, f"voxels read up to {max(errors):.1f} HU from the truth"


def test_a_tilted_series_is_resampled_onto_a_right_angled_grid_with_a_note(tmp_path, db):
    tilt = math.radians(15)
    orientation = (1, 0, 0, 0, math.cos(tilt), math.sin(tilt))
    # The table moves along z; the tilted image planes are stacked along z, not along their normal.
    positions = [[-10.0, -20.0, 100.0 + 2.0 * k] for k in range(18)]
    case = case_import(path=write_series(tmp_path / "tilted", positions, orientation)).case
    assert any("gantry tilt of 15.0 degrees" in note for note in case.import_report["notes"])
    assert_reads_the_field(case)


def test_uneven_slice_spacing_is_resampled_with_a_note(tmp_path, db):
    heights = np.cumsum([0.0] + [2.0, 2.4] * 8)
    positions = [[-10.0, -20.0, 100.0 + h] for h in heights]
    case = case_import(path=write_series(tmp_path / "uneven", positions)).case
    assert any("uneven slice spacing" in note for note in case.import_report["notes"])
    assert_reads_the_field(case, margin_rows=2)


def test_a_regular_series_is_read_as_it_is(tmp_path, db):
    positions = [[-10.0, -20.0, 100.0 + 2.0 * k] for k in range(16)]
    case = case_import(path=write_series(tmp_path / "regular", positions)).case
    assert case.import_report["notes"] == ["no dose report (RDSR) with a DLP in the study"]
    assert_reads_the_field(case, margin_rows=0)


def test_a_missing_slice_is_refused(tmp_path, db):
    positions = [[-10.0, -20.0, 100.0 + 2.0 * k] for k in range(18) if k != 5]
    with pytest.raises(ImportRejected, match="slice\\(s\\) missing: a gap of 4.00 mm"):
        case_import(path=write_series(tmp_path / "gap", positions))
    assert Case.objects.count() == 0


def test_two_different_slices_at_one_place_are_refused(tmp_path, db):
    positions = [[-10.0, -20.0, 100.0 + 2.0 * k] for k in range(16)] + [[-10.0, -20.0, 106.0]]
    with pytest.raises(ImportRejected, match="duplicate slices"):
        case_import(path=write_series(tmp_path / "dup", positions))
    assert Case.objects.count() == 0


def test_copies_of_the_same_slice_are_dropped_with_a_note(tmp_path, db):
    positions = [[-10.0, -20.0, 100.0 + 2.0 * k] for k in range(16)]
    folder = write_series(tmp_path / "copies", positions)
    shutil.copy(folder / "003.dcm", folder / "003-copy")
    case = case_import(path=folder).case
    assert case.size[2] == 16
    assert any("copy/copies of the same slice ignored" in note for note in case.import_report["notes"])
    assert_reads_the_field(case, margin_rows=0)


def test_shuffled_file_names_do_not_change_the_slice_order(tmp_path, db):
    positions = [
        [-10.0, -20.0, 100.0 + 2.0 * k] for k in (5, 1, 7, 0, 3, 6, 2, 4, 13, 9, 15, 8, 11, 14, 10, 12)
    ]
    case = case_import(path=write_series(tmp_path / "shuffled", positions)).case
    assert_reads_the_field(case, margin_rows=0)
