"""Intensity augmentation of the segmentation sampler (histogram scale/shift as on HU before windowing,
bias field, gamma): off by default, within its stated bounds when on, never touching the labels, and a
network still learns from augmented patches."""

import numpy as np
import pytest
import torch

from inference.ml.losses import segmentation_loss
from inference.ml.segmentation import DEMO, PAPER, StageConfig, configuration, data
from inference.ml.vbnet import VBNet

torch.set_num_threads(1)
WINDOW = (-200.0, 1600.0)
WIDTH = WINDOW[1] - WINDOW[0]


def stage(**intensity) -> StageConfig:
    return StageConfig(
        spacing_mm=1.0,
        patch_size=(16, 16, 16),
        base_width=4,
        depth=2,
        epochs=1,
        scale_jitter=0.0,
        shift_hu=0.0,
        **intensity,
    )


def hu_patches(count=8) -> tuple[torch.Tensor, torch.Tensor]:
    """Windowed patches of HU from fat to cortex, none clipped by the window, and the HU themselves."""
    hu = torch.from_numpy(np.random.default_rng(3).uniform(-150.0, 1500.0, (count, 16, 16, 16))).float()
    return (hu - WINDOW[0]) / WIDTH, hu


def test_the_demo_has_it_on_and_the_study_look_demo_and_the_paper_have_it_off():
    for config in (configuration("demo_study_look"), PAPER):
        for s in (config.coarse, config.fine):
            assert not data.IntensityAugmentation(s, WINDOW).active
        assert config.randomised_cases == 0
    assert data.IntensityAugmentation(DEMO.coarse, WINDOW).active
    assert data.IntensityAugmentation(DEMO.fine, WINDOW).active
    assert DEMO.randomised_cases > 0
    # The same design otherwise: the comparison of the two (bench_robust_segmentation.py) is of randomisation.
    study_look = configuration("demo_study_look")
    assert DEMO.coarse.patch_size == study_look.coarse.patch_size
    assert (DEMO.coarse.epochs, DEMO.fine.epochs) == (study_look.coarse.epochs, study_look.fine.epochs)


def test_histogram_scale_and_shift_move_each_hu_within_the_stated_bounds():
    ct, hu = hu_patches()
    augmented = data.IntensityAugmentation(stage(hu_scale=0.1, hu_shift=60.0), WINDOW)(
        ct.clone(), np.random.default_rng(0)
    )
    change_hu = (augmented - ct) * WIDTH
    assert (change_hu.abs() <= hu.abs() * 0.1 + 60.0 + 1e-2).all()
    assert change_hu.abs().max() > 20.0  # it did something
    # One affine map per patch: the change is linear in HU, as a calibration error is.
    for patch in range(ct.shape[0]):
        slope = np.polyfit(hu[patch].flatten().numpy(), change_hu[patch].flatten().numpy(), 1)[0]
        assert abs(slope) <= 0.1 + 1e-3


def test_gamma_and_bias_field_keep_the_window_and_the_order_of_values():
    ct, _ = hu_patches()
    gamma = data.IntensityAugmentation(stage(gamma=0.3), WINDOW)(ct.clone(), np.random.default_rng(1))
    assert gamma.min() >= 0.0 and gamma.max() <= 1.0
    order = torch.argsort(ct[0].flatten())
    assert (torch.diff(gamma[0].flatten()[order]) >= -1e-6).all()
    biased = data.IntensityAugmentation(stage(bias_field=0.1), WINDOW)(ct.clone(), np.random.default_rng(2))
    ratio = biased[ct < 0.85] / ct[ct < 0.85]
    assert ratio.min() >= 0.9 - 1e-5 and ratio.max() <= 1.1 + 1e-5


@pytest.mark.parametrize("bad", [{"hu_scale": 0.7}, {"hu_shift": -1.0}, {"gamma": 2.0}, {"bias_field": 0.6}])
def test_bad_intensity_settings_are_refused(bad):
    with pytest.raises(ValueError, match="intensity augmentation"):
        stage(**bad)


def _volume() -> data.Volume:
    labels = np.zeros((24, 24, 24), dtype=np.uint8)
    labels[6:16, 8:18, 5:14] = 1
    image = np.where(labels == 1, 0.5, 0.05) + np.random.default_rng(4).normal(0, 0.02, labels.shape)
    return data.Volume.build(image.astype(np.float32), labels)


def test_the_labels_are_the_same_with_and_without_intensity_augmentation():
    volume = _volume()
    plain = data.PatchSampler(volumes=[volume], stage=stage(), window=WINDOW)
    augmented = data.PatchSampler(
        volumes=[volume], stage=stage(hu_scale=0.1, hu_shift=60.0, gamma=0.3, bias_field=0.1), window=WINDOW
    )
    images_a, labels_a = plain.batch(np.random.default_rng(5), 6)
    images_b, labels_b = augmented.batch(np.random.default_rng(5), 6)
    assert torch.equal(labels_a, labels_b)
    assert not torch.equal(images_a, images_b)


def test_a_few_training_steps_on_augmented_patches_lower_the_loss():
    torch.manual_seed(0)
    sampler = data.PatchSampler(
        volumes=[_volume()],
        stage=stage(hu_scale=0.1, hu_shift=60.0, gamma=0.3, bias_field=0.1),
        window=WINDOW,
    )
    network = VBNet(out_channels=2, base_width=4, depth=2, norm="batch")
    optimiser = torch.optim.Adam(network.parameters(), lr=1e-2)
    loss_function = segmentation_loss("dice_focal")
    rng, losses = np.random.default_rng(6), []
    images, labels = sampler.batch(rng, 4)
    for _ in range(5):
        optimiser.zero_grad()
        loss = loss_function(network(images), labels)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
