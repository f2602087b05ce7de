"""The baseline's number: mean HU of the VOI below its cortex."""

import numpy as np
import pytest
import SimpleITK as sitk

from inference.ml.radiomics.trabecular import mean_trabecular_hu

TRABECULAR_HU, CORTICAL_HU = 180, 1200


def bony_ball(*, spacing=(0.7, 0.7, 1.25), radius_mm=12.0, cortex_mm=2.0):
    size = (48, 48, 32)
    z, y, x = np.meshgrid(
        *(np.arange(n) * s for n, s in zip(size[::-1], spacing[::-1], strict=True)), indexing="ij"
    )
    distance = np.sqrt((x - x.mean()) ** 2 + (y - y.mean()) ** 2 + (z - z.mean()) ** 2)
    hu = np.where(distance < radius_mm - cortex_mm, TRABECULAR_HU, CORTICAL_HU).astype(np.int16)
    hu[distance >= radius_mm] = 40
    image, mask = sitk.GetImageFromArray(hu), sitk.GetImageFromArray((distance < radius_mm).astype(np.uint8))
    for volume in (image, mask):
        volume.SetSpacing(spacing)
    return image, mask


@pytest.mark.parametrize("spacing", [(0.7, 0.7, 1.25), (1.0, 1.0, 3.0)])
def test_it_reads_the_trabecular_bone_and_leaves_the_cortex_out(spacing):
    image, mask = bony_ball(spacing=spacing)
    assert mean_trabecular_hu(image, mask, label=1, cortex_mm=3.0) == pytest.approx(TRABECULAR_HU)


def test_with_no_cortex_depth_the_cortex_counts():
    image, mask = bony_ball()
    assert mean_trabecular_hu(image, mask, label=1, cortex_mm=0.0) > TRABECULAR_HU + 100


def test_it_rejects_a_mask_with_no_voxel_of_the_label():
    image, mask = bony_ball()
    with pytest.raises(ValueError, match="no voxel of label 2"):
        mean_trabecular_hu(image, mask, label=2)


def test_it_rejects_a_voi_thinner_than_the_cortex():
    image, mask = bony_ball(radius_mm=2.0)
    with pytest.raises(ValueError, match="deeper than"):
        mean_trabecular_hu(image, mask, label=1, cortex_mm=3.0)
