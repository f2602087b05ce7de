"""Agreement metrics against shapes whose true values are known by hand.

Two spheres of equal radius r whose centres are d apart (d < r):
- Dice: the overlap is a lens of volume pi (4r + d)(2r - d)^2 / 12, so Dice = lens / (4/3 pi r^3).
- Surface distances: a point of sphere A at angle theta from the offset axis lies at distance
  s = sqrt(r^2 + d^2 - 2 r d cos(theta)) from B's centre, so |s - r| from B's surface. On a sphere
  cos(theta) is uniform on [-1, 1] (Archimedes), hence s^2 is uniform on [(r - d)^2, (r + d)^2] and
  P(|s - r| <= t) = ((r + t)^2 - (r - t)^2) / ((r + d)^2 - (r - d)^2) = t / d for t <= d.
  The distance is uniform on [0, d]: HD95 = 0.95 d, ASSD = d / 2 (both directions are alike by symmetry).
Two concentric spheres of radii r1 > r2: every surface distance is r1 - r2, so HD95 = ASSD = r1 - r2,
Dice = 2 r2^3 / (r1^3 + r2^3), VD = 4/3 pi (r1^3 - r2^3).

Tolerances come from voxelisation. Each voxelised surface lies within one voxel of the true one and the
errors partly cancel, so distances are accepted within half the largest voxel spacing. Voxel counts of a
sphere of radius >= 12 voxels differ from its volume by far less than 1% (the lattice-point error grows
like r^1.5 against a volume like r^3), so Dice is accepted within 0.005 and volumes within 1%.
The grid is anisotropic, as CT is, so swapping the spacing order would fail these tests.
"""

import math

import numpy as np
import pytest

from voi.metrics import voi_agreement

SPACING_XYZ = (0.8, 0.9, 1.25)
GRID_ZYX = (48, 70, 90)
CENTRE_XYZ = (35.0, 31.0, 30.0)
DISTANCE_TOLERANCE_MM = max(SPACING_XYZ) / 2
DICE_TOLERANCE = 0.005
VOLUME_RELATIVE_TOLERANCE = 0.01


def sphere(*, centre_xyz, radius_mm, label=1, grid_zyx=GRID_ZYX, spacing_xyz=SPACING_XYZ) -> np.ndarray:
    z, y, x = np.ogrid[: grid_zyx[0], : grid_zyx[1], : grid_zyx[2]]
    (sx, sy, sz), (cx, cy, cz) = spacing_xyz, centre_xyz
    inside = (x * sx - cx) ** 2 + (y * sy - cy) ** 2 + (z * sz - cz) ** 2 <= radius_mm**2
    return inside.astype(np.uint8) * label


def sphere_cm3(radius_mm: float) -> float:
    return 4.0 / 3.0 * math.pi * radius_mm**3 / 1000.0


def shifted(centre_xyz, distance_mm):
    # An oblique offset (in the x-y plane) so that no single axis carries it.
    return (centre_xyz[0] + 0.6 * distance_mm, centre_xyz[1] + 0.8 * distance_mm, centre_xyz[2])


@pytest.mark.parametrize("distance_mm", [3.0, 6.0, 10.0])
def test_two_offset_spheres_agree_as_the_lens_formula_says(distance_mm):
    radius = 20.0
    first = sphere(centre_xyz=CENTRE_XYZ, radius_mm=radius)
    second = sphere(centre_xyz=shifted(CENTRE_XYZ, distance_mm), radius_mm=radius)

    result = voi_agreement(first=first, second=second, spacing_xyz=SPACING_XYZ).overall

    lens = math.pi * (4 * radius + distance_mm) * (2 * radius - distance_mm) ** 2 / 12
    assert result.dice == pytest.approx(lens / (4 / 3 * math.pi * radius**3), abs=DICE_TOLERANCE)
    assert result.hd95_mm == pytest.approx(0.95 * distance_mm, abs=DISTANCE_TOLERANCE_MM)
    assert result.assd_mm == pytest.approx(distance_mm / 2, abs=DISTANCE_TOLERANCE_MM)
    assert result.volume_difference_cm3 == pytest.approx(
        0.0, abs=VOLUME_RELATIVE_TOLERANCE * sphere_cm3(radius)
    )


@pytest.mark.parametrize(("outer_mm", "inner_mm"), [(20.0, 16.0), (18.0, 12.0)])
def test_concentric_spheres_are_apart_by_the_difference_of_their_radii(outer_mm, inner_mm):
    first = sphere(centre_xyz=CENTRE_XYZ, radius_mm=outer_mm)
    second = sphere(centre_xyz=CENTRE_XYZ, radius_mm=inner_mm)

    result = voi_agreement(first=first, second=second, spacing_xyz=SPACING_XYZ).overall

    assert result.dice == pytest.approx(2 * inner_mm**3 / (outer_mm**3 + inner_mm**3), abs=DICE_TOLERANCE)
    assert result.hd95_mm == pytest.approx(outer_mm - inner_mm, abs=DISTANCE_TOLERANCE_MM)
    assert result.assd_mm == pytest.approx(outer_mm - inner_mm, abs=DISTANCE_TOLERANCE_MM)
    expected_vd = sphere_cm3(outer_mm) - sphere_cm3(inner_mm)
    assert result.volume_difference_cm3 == pytest.approx(
        expected_vd, abs=VOLUME_RELATIVE_TOLERANCE * sphere_cm3(outer_mm)
    )
    assert result.first_cm3 == pytest.approx(sphere_cm3(outer_mm), rel=VOLUME_RELATIVE_TOLERANCE)


def test_each_femur_label_is_compared_on_its_own():
    # Left femur (label 1) identical in both VOIs; right femur (label 2) offset by 6 mm in the second.
    left_centre, right_centre = (16.0, 31.0, 30.0), (52.0, 31.0, 30.0)
    radius, distance = 12.0, 6.0
    first = sphere(centre_xyz=left_centre, radius_mm=radius, label=1) + sphere(
        centre_xyz=right_centre, radius_mm=radius, label=2
    )
    second = sphere(centre_xyz=left_centre, radius_mm=radius, label=1) + sphere(
        centre_xyz=(right_centre[0], right_centre[1] + distance, right_centre[2]), radius_mm=radius, label=2
    )

    result = voi_agreement(first=first, second=second, spacing_xyz=SPACING_XYZ)

    left, right = result.per_label[1], result.per_label[2]
    assert (left.dice, left.hd95_mm, left.assd_mm) == (1.0, 0.0, 0.0)
    lens = math.pi * (4 * radius + distance) * (2 * radius - distance) ** 2 / 12
    assert right.dice == pytest.approx(lens / (4 / 3 * math.pi * radius**3), abs=DICE_TOLERANCE)
    assert right.assd_mm == pytest.approx(distance / 2, abs=DISTANCE_TOLERANCE_MM)
    # The whole foreground's Dice pools both femurs: the overlap of both over the volume of both.
    overlap_voxels = np.count_nonzero((first == 1) & (second == 1)) + np.count_nonzero(
        (first == 2) & (second == 2)
    )
    pooled = 2 * overlap_voxels / (np.count_nonzero(first) + np.count_nonzero(second))
    assert result.overall.dice == pytest.approx(pooled)


def test_a_label_missing_from_both_vois_has_no_dice_and_no_distance():
    first = sphere(centre_xyz=CENTRE_XYZ, radius_mm=10.0, label=1)

    result = voi_agreement(first=first, second=first.copy(), spacing_xyz=SPACING_XYZ)

    right = result.per_label[2]
    assert (right.dice, right.hd95_mm, right.assd_mm, right.volume_difference_cm3) == (None, None, None, 0.0)


def test_a_label_drawn_by_one_reader_only_has_dice_zero_and_no_distance():
    first = sphere(centre_xyz=CENTRE_XYZ, radius_mm=10.0, label=2)
    second = np.zeros_like(first)

    right = voi_agreement(first=first, second=second, spacing_xyz=SPACING_XYZ).per_label[2]

    assert right.dice == 0.0
    assert (right.hd95_mm, right.assd_mm) == (None, None)
    assert right.volume_difference_cm3 == pytest.approx(np.count_nonzero(first) * 0.8 * 0.9 * 1.25 / 1000)


def test_a_mask_touching_the_edge_of_the_volume_still_has_a_closed_surface():
    first = np.zeros((10, 10, 10), np.uint8)
    first[:, :, :] = 1
    second = first.copy()
    second[:, :, 9] = 0

    result = voi_agreement(first=first, second=second, spacing_xyz=(1.0, 1.0, 1.0)).overall

    # The cube's face at x = 9 moved in by one voxel: the largest surface distance is 1 mm.
    assert result.hd95_mm == pytest.approx(1.0)
    assert result.assd_mm is not None and 0.0 < result.assd_mm < 1.0


def test_it_rejects_vois_of_different_shapes():
    with pytest.raises(ValueError, match="different shapes"):
        voi_agreement(first=np.zeros((2, 3, 4)), second=np.zeros((2, 3, 5)), spacing_xyz=(1, 1, 1))


@pytest.mark.parametrize("spacing", [(1.0, 1.0), (1.0, 0.0, 1.0), (1.0, float("nan"), 1.0)])
def test_it_rejects_a_spacing_that_is_not_three_positive_numbers(spacing):
    with pytest.raises(ValueError, match="Spacing"):
        voi_agreement(first=np.zeros((2, 2, 2)), second=np.zeros((2, 2, 2)), spacing_xyz=spacing)


# --- The one convention (voi.metrics' docstring), where the three old ones disagreed -------------------


def _two_femurs(*, left_voxels: int, right_voxels: int) -> np.ndarray:
    labels = np.zeros((4, 20, 40), dtype=np.uint8)
    labels[:, :10, : left_voxels // 40] = 1
    labels[:, 10:, 20 : 20 + right_voxels // 40] = 2
    return labels


def test_overall_dice_pools_the_sides_rather_than_averaging_them():
    """inference/services/segmentation.py (now inference/training/segmentation.py) stored the mean of the per-side Dice as "overall": here 0.75."""
    reference = _two_femurs(left_voxels=400, right_voxels=80)
    predicted = reference.copy()
    predicted[predicted == 2] = 0  # the small right femur missed entirely
    result = voi_agreement(first=reference, second=predicted, spacing_xyz=(1, 1, 1))
    assert (result.per_label[1].dice, result.per_label[2].dice) == (1.0, 0.0)
    assert result.overall.dice == pytest.approx(2 * 400 / (480 + 400))
    assert result.overall.hd95_mm is None  # a side in one VOI only: the distance is unbounded


def test_overall_dice_counts_a_voxel_only_when_both_give_it_the_same_side():
    """annotations/agreement.py took the union of all labels as "overall": a femur labelled with the wrong
    side agreed perfectly (Dice 1.0)."""
    reference = _two_femurs(left_voxels=400, right_voxels=0)
    swapped = np.where(reference == 1, 2, 0).astype(np.uint8)
    result = voi_agreement(first=reference, second=swapped, spacing_xyz=(1, 1, 1))
    assert result.overall.dice == 0.0


def test_a_side_neither_voi_has_has_no_dice_rather_than_a_perfect_one():
    """inference/ml/segmentation/metrics.py gave 1.0 when both masks were empty, so a one-sided reference
    (e.g. a hip replacement on the other side) raised the training's validation Dice."""
    reference = _two_femurs(left_voxels=400, right_voxels=0)
    result = voi_agreement(first=reference, second=reference, spacing_xyz=(1, 1, 1))
    assert result.per_label[2].dice is None and result.overall.dice == 1.0
    assert result.overall.hd95_mm == 0.0


def test_overall_volume_difference_is_the_sum_of_the_sides():
    reference = _two_femurs(left_voxels=400, right_voxels=200)
    predicted = _two_femurs(left_voxels=360, right_voxels=240)
    result = voi_agreement(first=reference, second=predicted, spacing_xyz=(1.0, 1.0, 2.5))
    sides = result.per_label[1].volume_difference_cm3 + result.per_label[2].volume_difference_cm3
    assert result.overall.volume_difference_cm3 == pytest.approx(sides)
    assert result.per_label[1].volume_difference_cm3 == pytest.approx(40 * 2.5 / 1000)


def test_without_surface_distances_the_overlap_numbers_are_the_same():
    reference = _two_femurs(left_voxels=400, right_voxels=200)
    predicted = _two_femurs(left_voxels=360, right_voxels=240)
    full = voi_agreement(first=reference, second=predicted, spacing_xyz=(1, 1, 1))
    fast = voi_agreement(first=reference, second=predicted, spacing_xyz=(1, 1, 1), surface=False)
    assert fast.overall.dice == full.overall.dice and fast.overall.hd95_mm is None
