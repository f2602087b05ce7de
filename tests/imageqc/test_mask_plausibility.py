"""The model's own mask, per side: a near-empty, shattered, headless, oversized, edge-cut or unsure mask is not
assessable, with a reason; the reference VOI itself passes."""

import numpy as np
import pytest
import SimpleITK as sitk

from imageqc import image_qc, sides_qc
from imageqc.flags import FEMUR_CUT, LOW_CONFIDENCE, MASK_FRAGMENTED, MASK_NO_HEAD_NECK, MASK_VOLUME


def relabelled(case, change) -> sitk.Image:
    array = sitk.GetArrayFromImage(case.label)
    array = change(array)
    mask = sitk.GetImageFromArray(array.astype(np.uint8))
    mask.CopyInformation(case.label)
    return mask


def left_codes(case, mask, **kw) -> set[str]:
    verdict = sides_qc(image_qc(case.image), mask, **kw)["left"]
    assert verdict.assessable == (not verdict.flags)
    return {f.code for f in verdict.flags}


def test_the_reference_voi_passes(clean_cases):
    assert left_codes(clean_cases[0], clean_cases[0].label) == set()


def test_a_near_empty_mask_is_not_assessable(clean_cases):
    case = clean_cases[0]

    def keep_a_few(array):
        z, y, x = np.nonzero(array == 1)
        array[array == 1] = 0
        array[z[:30], y[:30], x[:30]] = 1
        return array

    assert left_codes(case, relabelled(case, keep_a_few)) == {MASK_VOLUME}


def test_a_shattered_mask_is_not_assessable(clean_cases):
    case = clean_cases[1]

    def shatter(array):
        # Every eighth group of slices loses two: the femur falls into slabs 7.5 mm thick.
        gaps = (np.arange(array.shape[0]) % 8) >= 6
        array[gaps] = np.where(array[gaps] == 1, 0, array[gaps])
        return array

    assert MASK_FRAGMENTED in left_codes(case, relabelled(case, shatter))


def test_a_mask_without_head_and_neck_is_not_assessable(clean_cases):
    case = clean_cases[0]

    def shaft_only(array):
        z, y, x = np.nonzero(array == 1)
        bottom = z.min()
        lowest = z <= bottom + 4
        cy, cx = y[lowest].mean(), x[lowest].mean()
        array[array == 1] = 0
        zz, yy, xx = np.indices(array.shape)
        radius_px = 15.0 / case.image.GetSpacing()[0]
        array[(zz >= bottom) & (zz < bottom + 64) & ((yy - cy) ** 2 + (xx - cx) ** 2 <= radius_px**2)] = 1
        return array

    assert left_codes(case, relabelled(case, shaft_only)) == {MASK_NO_HEAD_NECK}


def test_a_mask_far_bigger_than_a_proximal_femur_is_not_assessable(clean_cases):
    case = clean_cases[0]

    def flood(array):
        array[10:60, 20:100, 64:110] = 1
        return array

    assert MASK_VOLUME in left_codes(case, relabelled(case, flood))


def test_an_unsure_model_makes_its_side_not_assessable(clean_cases):
    case = clean_cases[0]
    assert left_codes(case, case.label, mean_probability={"left": 0.55}) == {LOW_CONFIDENCE}
    assert left_codes(case, case.label, mean_probability={"left": 0.95}) == set()


def test_a_mask_on_another_grid_is_refused(clean_cases):
    case = clean_cases[0]
    with pytest.raises(ValueError, match="grid"):
        sides_qc(image_qc(case.image), case.label[:, :, 1:])


def test_a_mask_that_reaches_the_scans_edge_is_not_assessable(clean_cases):
    case = clean_cases[0]
    z = np.nonzero(sitk.GetArrayViewFromImage(case.label) == 1)[0]
    cut = int(z.min()) + 6  # the scan now ends 6 slices above the VOI's lowest slice
    image, mask = case.image[:, :, cut:], case.label[:, :, cut:]
    verdict = sides_qc(image_qc(image), mask)["left"]
    assert FEMUR_CUT in {f.code for f in verdict.flags} and not verdict.assessable
    assert "bottom" in next(f.reason for f in verdict.flags if f.code == FEMUR_CUT)
