"""The held-out profile: deterministic synthetic CTs from a scanner, calibration, noise, slice thickness
and field of view the model never trains on, scored by every training run beside its validation."""

import numpy as np
import pytest
import SimpleITK as sitk
import torch
from segmentation_helpers import tiny_segmentation_config, write_synthetic_hips

from inference.ml.segmentation import SegmentationConfig, train_segmentation
from inference.ml.segmentation.heldout import (
    HELDOUT_OFFSET_HU,
    HELDOUT_SCANNER,
    OOD_DICE_GAP_LIMIT,
    HeldoutProfile,
    heldout_case_options,
    heldout_cases,
    heldout_verdict,
)
from phantom.case import generate_case
from phantom.scanner import SCANNER_PROFILES

torch.set_num_threads(1)
TINY_HELDOUT = HeldoutProfile(cases=2, matrix=64)


def test_the_heldout_cases_are_the_same_bytes_every_time(tmp_path):
    first = heldout_cases(TINY_HELDOUT, tmp_path / "a")
    second = heldout_cases(TINY_HELDOUT, tmp_path / "b")
    for pair_a, pair_b in zip(first, second, strict=True):
        a, b = ([sitk.GetArrayFromImage(sitk.ReadImage(str(p))) for p in pair] for pair in (pair_a, pair_b))
        assert a[0].tobytes() == b[0].tobytes() and a[1].tobytes() == b[1].tobytes()
        assert a[1].any()


def test_the_profile_is_one_no_training_cohort_draws_from():
    options = [heldout_case_options(TINY_HELDOUT, i) for i in range(2)]
    assert HELDOUT_SCANNER not in SCANNER_PROFILES  # not among a cohort's default scanners
    assert all(o.scanners == (HELDOUT_SCANNER,) and o.slice_mm == 5.0 and o.region == "hips" for o in options)
    assert [o.hu_offset for o in options] == [HELDOUT_OFFSET_HU, -HELDOUT_OFFSET_HU]
    assert all(o.noise_scale == 2.0 for o in options)


def test_its_calibration_offset_moves_the_image_by_sixty_hu():
    options = heldout_case_options(TINY_HELDOUT, 0)
    shifted = generate_case(seed=TINY_HELDOUT.seed, index=0, options=options)
    plain = generate_case(
        seed=TINY_HELDOUT.seed, index=0, options=options.__class__(**{**options.__dict__, "hu_offset": 0.0})
    )
    a, b = (
        sitk.GetArrayViewFromImage(shifted.image).astype(float),
        sitk.GetArrayViewFromImage(plain.image).astype(float),
    )
    inside = b > -900
    assert np.median((a - b)[inside]) == pytest.approx(HELDOUT_OFFSET_HU, abs=1.0)


@pytest.mark.parametrize(
    ("validation", "heldout", "below"),
    [
        (0.95, 0.95 - OOD_DICE_GAP_LIMIT - 0.01, True),
        (0.95, 0.95 - OOD_DICE_GAP_LIMIT + 0.01, False),
        (0.95, 0.97, False),
        (None, 0.9, None),
        (0.9, None, None),
    ],
)
def test_a_version_is_marked_when_its_heldout_dice_falls_more_than_the_limit_below_validation(
    validation, heldout, below
):
    verdict = heldout_verdict(validation, heldout)
    assert verdict["below_validation"] is below and verdict["limit"] == OOD_DICE_GAP_LIMIT


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return write_synthetic_hips(tmp_path_factory.mktemp("cases"), 2)


def tiny_config() -> SegmentationConfig:
    return tiny_segmentation_config()


def test_a_training_run_returns_the_heldout_score_beside_its_validation(cases, tmp_path):
    result = train_segmentation(tiny_config(), cases[:1], cases[1:], tmp_path, heldout=TINY_HELDOUT)
    ood = result.out_of_distribution
    assert ood["n"] == TINY_HELDOUT.cases and len(result.out_of_distribution_per_case) == TINY_HELDOUT.cases
    assert ood["dice_mean"] is not None and 0.0 <= ood["dice_mean"] <= 1.0
    assert ood["dice_gap"] == pytest.approx(result.validation["dice_mean"] - ood["dice_mean"], abs=1e-6)
    assert ood["below_validation"] == (ood["dice_gap"] > OOD_DICE_GAP_LIMIT)
    assert HELDOUT_SCANNER in ood["profile"]


def test_a_run_without_a_heldout_profile_scores_none(cases, tmp_path):
    result = train_segmentation(tiny_config(), cases[:1], [], tmp_path, heldout=None)
    assert result.completed and result.out_of_distribution == {}


def test_a_heldout_profile_that_cannot_be_scored_leaves_the_trained_model_and_says_why(
    cases, tmp_path, monkeypatch
):
    import inference.ml.segmentation.training as training

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(training, "heldout_cases", broken)
    result = train_segmentation(tiny_config(), cases[:1], cases[1:], tmp_path, heldout=TINY_HELDOUT)
    assert result.completed and result.fine_checkpoint is not None
    assert "disk full" in result.out_of_distribution["error"]
