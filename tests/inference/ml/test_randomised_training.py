"""Domain randomisation in segmentation training (issue 15): randomised phantom cases join the cohort's
training cases, share each epoch's patches with them, and are never the held-out profile's."""

import math

import pytest
import SimpleITK as sitk
import torch
from segmentation_helpers import tiny_segmentation_config, write_synthetic_hips

from inference.ml.segmentation import SegmentationConfig, configuration, data, train_segmentation
from inference.ml.segmentation.config import CONFIGURATIONS
from inference.ml.segmentation.heldout import HELDOUT_SCANNER
from inference.ml.segmentation.randomised import randomised_case_options, randomised_cases
from phantom.case import generate_case

torch.set_num_threads(1)
MATRIX = 48


def _arrays(pair):
    return [sitk.GetArrayFromImage(sitk.ReadImage(str(p))) for p in pair]


def test_the_randomised_cases_are_reproducible_per_seed_and_differ_between_seeds(tmp_path):
    first = randomised_cases(2, MATRIX, tmp_path / "a", seed=0)
    again = randomised_cases(2, MATRIX, tmp_path / "b", seed=0)
    other = randomised_cases(2, MATRIX, tmp_path / "c", seed=1)
    for a, b, c in zip(first, again, other, strict=True):
        (image_a, mask_a), (image_b, mask_b), (image_c, _) = _arrays(a), _arrays(b), _arrays(c)
        assert image_a.tobytes() == image_b.tobytes() and mask_a.tobytes() == mask_b.tobytes()
        assert mask_a.any()
        assert image_a.shape != image_c.shape or image_a.tobytes() != image_c.tobytes()


def test_a_folder_that_holds_the_cases_is_reused_and_one_of_another_stamp_is_not(tmp_path):
    pairs = randomised_cases(1, MATRIX, tmp_path, seed=0)
    before = pairs[0][0].stat().st_mtime_ns
    assert randomised_cases(1, MATRIX, tmp_path, seed=0) == pairs
    assert pairs[0][0].stat().st_mtime_ns == before
    randomised_cases(1, MATRIX, tmp_path, seed=4)  # another seed: made again
    assert pairs[0][0].stat().st_mtime_ns != before


def test_the_randomised_cases_vary_their_look_and_never_use_the_heldout_scanner():
    options = randomised_case_options(MATRIX)
    assert HELDOUT_SCANNER not in options.scanners
    assert options.appearance == "randomised" and options.calibration == "spread"
    looks = [generate_case(seed=15_016, index=i, options=options).metadata for i in range(4)]
    spacings = {(m["pixel_mm"], m["slice_thickness_mm"]) for m in looks}
    assert len(spacings) == 4  # every case its own grid


def tiny_config(randomised: int) -> SegmentationConfig:
    return tiny_segmentation_config(patches_per_case=4, randomised_cases=randomised, randomised_matrix=MATRIX)


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return write_synthetic_hips(tmp_path_factory.mktemp("cases"), 2)


class SamplerSpy(data.PatchSampler):
    made: list = []

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.batches = 0
        SamplerSpy.made.append(self)

    def batch(self, rng, count):
        self.batches += 1
        return super().batch(rng, count)


def test_training_mixes_them_in_and_keeps_the_epoch_as_long_as_the_cohort_makes_it(
    cases, tmp_path, monkeypatch
):
    monkeypatch.setattr(data, "PatchSampler", SamplerSpy)
    SamplerSpy.made = []
    result = train_segmentation(tiny_config(2), cases[:1], cases[1:], tmp_path, heldout=None)
    assert result.completed
    coarse, fine = SamplerSpy.made
    assert len(coarse.volumes) == 1 + 2  # one cohort case, two randomised
    assert len(fine.volumes) >= 2 + 2  # a crop per femur side present
    steps = math.ceil(1 * 4 / 2)  # the cohort's one case x patches_per_case / batch_size
    assert coarse.batches == steps and fine.batches == steps
    assert len(list((tmp_path / "randomised").glob("randomised*_mask.nii.gz"))) == 2


def test_a_configuration_without_them_trains_on_the_cohort_alone(cases, tmp_path, monkeypatch):
    monkeypatch.setattr(data, "PatchSampler", SamplerSpy)
    SamplerSpy.made = []
    train_segmentation(tiny_config(0), cases[:1], cases[1:], tmp_path, heldout=None)
    assert len(SamplerSpy.made[0].volumes) == 1
    assert not (tmp_path / "randomised").exists()


def test_a_stop_request_while_they_are_made_stops_the_run_before_any_training(cases, tmp_path):
    result = train_segmentation(
        tiny_config(3), cases[:1], cases[1:], tmp_path, heldout=None, should_stop=lambda: True
    )
    assert not result.completed and result.coarse_checkpoint is None
    assert not list((tmp_path / "randomised").glob("*.nii.gz"))


def test_the_platform_names_every_configuration_the_ml_layer_has():
    from inference.training.segmentation import CONFIG_NAMES

    assert set(CONFIG_NAMES) == set(CONFIGURATIONS)
    assert configuration("demo").randomised_cases > 0


@pytest.mark.parametrize("count", [-1, 201])
def test_a_configuration_with_an_impossible_count_is_refused(count):
    with pytest.raises(ValueError, match="randomised_cases"):
        tiny_config(count)


def test_old_configurations_without_the_field_still_load():
    stored = configuration("demo_study_look").as_dict()
    del stored["randomised_cases"], stored["randomised_matrix"]
    assert SegmentationConfig.from_dict(stored).randomised_cases == 0
