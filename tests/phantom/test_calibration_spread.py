"""Scanner calibration spread: without a calibration phantom, site, kVp, kernel and contrast phase move bone
HU by tens of HU; the "spread" calibration draws that per case so mean HU no longer encodes bone status."""

import numpy as np
import pytest
import SimpleITK as sitk

from phantom import scanner
from phantom.case import CaseOptions, generate_case


def test_the_per_case_offset_and_gain_follow_the_stated_distribution():
    draws = np.array([scanner.calibration_spread(np.random.default_rng(seed)) for seed in range(3000)])
    offsets, gains = draws[:, 0], draws[:, 1]
    assert np.abs(offsets).max() <= scanner.CALIBRATION_OFFSET_LIMIT_HU
    assert np.abs(gains - 1).max() <= scanner.CALIBRATION_GAIN_LIMIT + 1e-12
    assert offsets.std() == pytest.approx(scanner.CALIBRATION_OFFSET_SD_HU, rel=0.1)
    assert gains.std() == pytest.approx(scanner.CALIBRATION_GAIN_SD, rel=0.1)


def test_spread_moves_the_same_case_by_its_drawn_offset_and_gain_only():
    base = CaseOptions(matrix=64, region="hips", readers=False, exclusion="")
    plain = generate_case(seed=5, index=1, options=base)
    spread = generate_case(seed=5, index=1, options=CaseOptions(**{**base.__dict__, "calibration": "spread"}))
    offset, gain = spread.metadata["hu_calibration_offset"], spread.metadata["hu_calibration_gain"]
    profile = scanner.ALL_PROFILES[plain.metadata["scanner"]]
    before = sitk.GetArrayViewFromImage(plain.image).astype(float)
    after = sitk.GetArrayViewFromImage(spread.image).astype(float)
    expected = (before - profile.hu_offset) * gain + profile.hu_offset + offset
    assert np.abs(after - expected)[before > -900].max() <= 1.6  # two roundings to whole HU
    assert (
        sitk.GetArrayViewFromImage(plain.label).tobytes()
        == sitk.GetArrayViewFromImage(spread.label).tobytes()
    )
    assert offset != 0.0
