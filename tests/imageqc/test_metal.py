"""Metal is metal by CT number and shape: a compact region above 2,500 HU in or next to a femur, whatever
made the image (no streaks needed), and nothing else: not dense bone, not a bright speck, not spine metal."""

import numpy as np
import pytest
import SimpleITK as sitk

from imageqc import image_qc
from imageqc.flags import METAL
from imageqc.metal import METAL_HU
from phantom.anatomy import LEFT


def with_rod(case, *, hu: float, radius_mm: float = 5.0, where=None) -> sitk.Image:
    """The case's CT with a straight rod written in (a nail along the left femoral neck by default)."""
    femur = case.anatomy.femur(LEFT)
    start, end = where or (femur.head_centre, femur.junction)
    array = sitk.GetArrayFromImage(case.image)
    z, y, x = np.indices(array.shape)
    spacing, origin = np.array(case.image.GetSpacing()), np.array(case.image.GetOrigin())
    points = np.stack([x, y, z], axis=-1) * spacing + origin
    axis = (np.asarray(end) - start) / np.linalg.norm(np.asarray(end) - start)
    along = np.clip((points - start) @ axis, 0, np.linalg.norm(np.asarray(end) - start))
    nearest = np.asarray(start) + along[..., None] * axis
    array[np.linalg.norm(points - nearest, axis=-1) <= radius_mm] = hu
    image = sitk.GetImageFromArray(array)
    image.CopyInformation(case.image)
    return image


def test_a_nail_in_the_femoral_neck_is_metal_on_that_side_without_any_streaks(clean_cases):
    # 3,071 HU: where a standard 12-bit reconstruction saturates metal.
    flags = image_qc(with_rod(clean_cases[0], hu=3071)).flags
    assert [(f.code, f.side) for f in flags] == [(METAL, "left")]


@pytest.mark.parametrize("hu", [1800, METAL_HU - 100])
def test_dense_bone_below_the_threshold_is_not_metal(clean_cases, hu):
    assert image_qc(with_rod(clean_cases[0], hu=hu)).flags == []


def test_a_single_bright_voxel_is_not_metal(clean_cases):
    case = clean_cases[1]
    array = sitk.GetArrayFromImage(case.image)
    index = case.image.TransformPhysicalPointToIndex(
        tuple(float(v) for v in case.anatomy.femur(LEFT).neck_centre)
    )
    array[index[::-1]] = 3071
    image = sitk.GetImageFromArray(array)
    image.CopyInformation(case.image)
    assert image_qc(image).flags == []


def test_metal_on_the_midline_far_above_the_hips_belongs_to_no_femur(clean_cases):
    case = clean_cases[2]
    femur = case.anatomy.femur(LEFT)
    top = case.image.TransformIndexToPhysicalPoint((0, 0, case.image.GetSize()[2] - 1))[2]
    rod = (np.array([0.0, femur.head_centre[1], top - 40]), np.array([0.0, femur.head_centre[1], top - 5]))
    assert image_qc(with_rod(case, hu=3071, where=rod)).flags == []
