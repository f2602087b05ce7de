"""The segmentation cascade: checkpoints, training (seed, stop, resume) and inference on any CT grid.

Everything runs on coarse grids (8 mm / 4 mm) with tiny networks so the file takes seconds; the real
spacings are only configuration.
"""

import numpy as np
import pytest
import SimpleITK as sitk
import torch
from segmentation_helpers import tiny_segmentation_config, write_synthetic_hips

from inference.ml.segmentation import (
    Checkpoint,
    CheckpointError,
    SegmentationConfig,
    StageConfig,
    TrainingResult,
    configuration,
    data,
    grids,
    load_checkpoint,
    reference_agreement,
    segment_image,
    train_segmentation,
)
from inference.ml.segmentation.cascade import (
    WHOLE_VOLUME_WINDOW_VOXELS,
    assign_sides,
    inference_window,
    outline_femur,
)
from inference.ml.segmentation.checkpoint import save_checkpoint
from inference.ml.segmentation.synthetic import synthetic_hip
from inference.ml.segmentation.training import keep_best, settle_final_weights

torch.set_num_threads(1)


def tiny_config(seed: int = 0, epochs: int = 2) -> SegmentationConfig:
    return tiny_segmentation_config(seed=seed, epochs=epochs, split_id=7)


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    return write_synthetic_hips(tmp_path_factory.mktemp("cases"), 3)


@pytest.fixture(scope="module")
def trained(cases, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    return train_segmentation(tiny_config(), cases[:2], cases[2:], out), out


def fine_weights(result: TrainingResult) -> dict:
    """The fine stage's weights of a finished run."""
    assert result.fine_checkpoint is not None, "the run wrote no fine checkpoint"
    return load_checkpoint(result.fine_checkpoint).state_dict


def test_training_writes_both_checkpoints_with_what_inference_needs(trained):
    result, _ = trained
    coarse, fine = load_checkpoint(result.coarse_checkpoint), load_checkpoint(result.fine_checkpoint)
    assert result.completed and result.epochs_done == 4
    # Both stages label femur or not: the side is read from the femur's place (assign_sides).
    assert (coarse.stage, coarse.spacing_mm, coarse.architecture_args["out_channels"]) == ("coarse", 8.0, 2)
    assert (fine.stage, fine.spacing_mm, fine.architecture_args["out_channels"]) == ("fine", 4.0, 2)
    assert coarse.seed == 0 and coarse.split_id == 7 and coarse.code_version.startswith("vbnet-cascade-")
    assert coarse.hu_window == tiny_config().hu_window and coarse.optimizer_state and coarse.epoch == 2
    assert {"dice_mean", "volume_difference_median"} <= set(result.validation) and len(result.per_case) == 1


def test_a_checkpoint_round_trip_rebuilds_an_identical_network(trained, tmp_path):
    original = load_checkpoint(trained[0].fine_checkpoint)
    copy = load_checkpoint(save_checkpoint(original, tmp_path / "copy.pt"))
    patch = torch.randn(1, 2, 16, 16, 16)
    with torch.inference_mode():
        assert torch.equal(original.build_network()(patch), copy.build_network()(patch))
    assert copy.architecture_args == original.architecture_args and copy.patch_size == original.patch_size


def test_the_same_seed_gives_the_same_weights_and_another_seed_does_not(cases, trained, tmp_path):
    again = train_segmentation(tiny_config(seed=0, epochs=2), cases[:2], [], tmp_path / "same")
    other = train_segmentation(tiny_config(seed=1, epochs=2), cases[:2], [], tmp_path / "other")
    reference = fine_weights(trained[0])
    assert all(torch.equal(v, fine_weights(again)[k]) for k, v in reference.items())
    assert not torch.equal(reference["input_unit.0.weight"], fine_weights(other)["input_unit.0.weight"])


def test_a_stopped_training_resumes_from_its_last_epoch_and_ends_with_the_same_weights(
    cases, trained, tmp_path
):
    asked = {"count": 0}

    def stop_in_the_second_epoch():
        asked["count"] += 1
        return asked["count"] > 3  # two steps per epoch: epoch 1 finishes, epoch 2 is cut short

    stopped = train_segmentation(tiny_config(), cases[:2], [], tmp_path, should_stop=stop_in_the_second_epoch)
    assert not stopped.completed and stopped.epochs_done == 1
    assert load_checkpoint(tmp_path / "coarse.pt").epoch == 1
    epochs_seen = []
    resumed = train_segmentation(
        tiny_config(),
        cases[:2],
        [],
        tmp_path,
        on_progress=lambda epoch, total, metrics: epochs_seen.append(epoch),
    )
    assert resumed.completed and epochs_seen == [2, 3, 4]
    reference = fine_weights(trained[0])
    assert all(torch.equal(v, fine_weights(resumed)[k]) for k, v in reference.items())


def test_progress_reports_loss_and_validation_dice_for_every_epoch(cases, tmp_path):
    reports = []
    train_segmentation(
        tiny_config(epochs=1),
        cases[:1],
        cases[2:],
        tmp_path,
        on_progress=lambda epoch, total, metrics: reports.append((epoch, total, metrics)),
    )
    assert [(e, t, m["stage"]) for e, t, m in reports] == [(1, 2, "coarse"), (2, 2, "fine")]
    assert all(np.isfinite(m["loss"]) and 0.0 <= m["val_dice"] <= 1.0 for _, _, m in reports)


def test_resuming_with_another_configuration_is_refused(cases, trained):
    _, out = trained
    with pytest.raises(CheckpointError, match="another configuration"):
        train_segmentation(tiny_config(seed=5), cases[:2], [], out)


def test_a_missing_checkpoint_gives_a_clear_error(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        load_checkpoint(tmp_path / "absent.pt")


def test_a_corrupt_checkpoint_gives_a_clear_error(trained, tmp_path):
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(trained[0].coarse_checkpoint.read_bytes()[:5000])
    with pytest.raises(CheckpointError, match="unreadable or damaged"):
        load_checkpoint(damaged)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(CheckpointError, match="not a segmentation checkpoint"):
        load_checkpoint(foreign)


@pytest.mark.parametrize(
    ("origin", "spacing", "direction"),
    [
        ((0.0, 0.0, 0.0), (9.0, 9.0, 10.0), None),
        ((-321.5, 47.25, 1203.0), (8.5, 9.5, 7.0), None),
        ((150.0, 120.0, -140.0), (9.0, 9.0, 10.0), (-1, 0, 0, 0, -1, 0, 0, 0, 1)),
    ],
)
def test_the_cascade_returns_labels_on_the_input_grid(trained, origin, spacing, direction):
    image, _ = synthetic_hip(size=(38, 30, 30), spacing=spacing, origin=origin, direction=direction, seed=9)
    coarse, fine = load_checkpoint(trained[0].coarse_checkpoint), load_checkpoint(trained[0].fine_checkpoint)
    steps = []
    mask = segment_image(image, coarse, fine, on_progress=lambda percent, message: steps.append(percent))
    assert mask.GetPixelID() == sitk.sitkUInt8 and mask.GetSize() == image.GetSize()
    assert mask.GetOrigin() == image.GetOrigin() and mask.GetSpacing() == image.GetSpacing()
    assert mask.GetDirection() == image.GetDirection()
    assert set(np.unique(sitk.GetArrayViewFromImage(mask))) <= {0, 1, 2} and steps[0] == 0


def test_the_cascade_reports_each_found_sides_mean_probability(trained):
    image, _ = synthetic_hip(size=(38, 30, 30), spacing=(9.0, 9.0, 10.0), seed=9)
    coarse, fine = load_checkpoint(trained[0].coarse_checkpoint), load_checkpoint(trained[0].fine_checkpoint)
    confidence: dict[int, float] = {}
    labels = sitk.GetArrayFromImage(segment_image(image, coarse, fine, confidence_out=confidence))
    assert confidence and set(confidence) == {side for side in (1, 2) if (labels == side).any()}
    # A voxel is labelled where its probability wins at 0.5 or more, so the mean over a mask is in [0.5, 1].
    assert all(0.5 <= value <= 1.0 for value in confidence.values())


def test_the_cascade_refuses_checkpoints_in_the_wrong_order(trained):
    image, _ = synthetic_hip(size=(8, 8, 8), spacing=(30.0, 30.0, 30.0))
    coarse, fine = load_checkpoint(trained[0].coarse_checkpoint), load_checkpoint(trained[0].fine_checkpoint)
    with pytest.raises(ValueError, match="coarse and a fine"):
        segment_image(image, fine, coarse)


def test_outlining_a_side_the_coarse_stage_did_not_find_is_refused(trained):
    image, _ = synthetic_hip(size=(8, 8, 8), spacing=(30.0, 30.0, 30.0))
    fine = load_checkpoint(trained[0].fine_checkpoint)
    with pytest.raises(ValueError, match="coarse mask of this side is empty"):
        outline_femur(image, fine, image, np.zeros((8, 8, 8), dtype=bool))


def test_a_flipped_scan_direction_gives_the_networks_the_same_lps_volume():
    plain, _ = synthetic_hip(size=(30, 24, 20), spacing=(10.0, 10.0, 12.0), origin=(0, 0, 0), noise_hu=0)
    flipped, _ = synthetic_hip(
        size=(30, 24, 20),
        spacing=(10.0, 10.0, 12.0),
        origin=(290, 230, 0),
        direction=(-1, 0, 0, 0, -1, 0, 0, 0, 1),
        noise_hu=0,
    )
    on_grid = [
        sitk.GetArrayFromImage(grids.resample(i, grids.grid_over_image(i, 10.0), sitk.sitkLinear))
        for i in (plain, flipped)
    ]
    assert on_grid[0].shape == on_grid[1].shape
    assert np.abs(on_grid[0] - on_grid[1]).max() < 1.0


def test_it_rejects_a_mask_on_another_grid(cases, tmp_path):
    image, mask = synthetic_hip(size=(10, 10, 10), spacing=(30.0, 30.0, 30.0))
    sitk.WriteImage(mask, str(tmp_path / "mask.nii.gz"))
    with pytest.raises(ValueError, match="not on the grid"):
        data.read_case(cases[0][0], tmp_path / "mask.nii.gz")


def test_patches_have_the_configured_shape_and_only_known_labels(cases):
    image, mask = data.read_case(*cases[0])
    stage = tiny_config().coarse
    sampler = data.PatchSampler(
        volumes=[data.coarse_volume(image, mask, stage, (-200.0, 1600.0))],
        stage=stage,
        window=(-200.0, 1600.0),
    )
    images, labels = sampler.batch(np.random.default_rng(0), 3)
    assert images.shape == labels.shape == (3, 1, 16, 16, 16)
    assert set(labels.unique().tolist()) <= {0, 1}


def test_volume_difference_is_manual_minus_automatic_in_cm3():
    reference = sitk.GetImageFromArray(np.zeros((10, 10, 10), dtype=np.uint8))
    reference.SetSpacing((2.0, 2.0, 2.5))
    reference[2:6, 2:6, 2:6] = 1  # 64 voxels of 10 mm3
    predicted = sitk.Image(reference)
    predicted[2:6, 2:6, 2:4] = 0  # 32 left
    agreement = reference_agreement(reference, predicted)
    assert agreement["1"]["volume_difference_cm3"] == pytest.approx(0.32)
    assert agreement["1"]["dice"] == pytest.approx(2 * 32 / 96)
    # The right side is in neither mask: no Dice (voi.metrics' convention), no volume difference.
    assert (agreement["2"]["dice"], agreement["2"]["volume_difference_cm3"]) == (None, 0.0)
    assert agreement["overall"]["dice"] == agreement["1"]["dice"]


def test_configurations_are_named_and_bad_stage_settings_raise():
    assert configuration("paper").coarse.epochs == 1001 and configuration("paper").fine.base_width == 16
    assert configuration("paper").coarse.learning_rate == 1e-4
    with pytest.raises(ValueError, match="unknown"):
        configuration("huge")
    with pytest.raises(ValueError, match="multiples"):
        StageConfig(spacing_mm=1.0, patch_size=(20, 16, 16), base_width=4, depth=3, epochs=1)
    with pytest.raises(ValueError, match="must be positive"):
        StageConfig(spacing_mm=1.0, patch_size=(16, 16, 16), base_width=4, depth=3, epochs=0)
    with pytest.raises(ValueError, match="loss must be"):
        StageConfig(spacing_mm=1.0, patch_size=(16, 16, 16), base_width=4, depth=3, epochs=1, loss="hinge")
    assert SegmentationConfig.from_dict(configuration("demo").as_dict()) == configuration("demo")


def test_a_checkpoint_of_an_unknown_stage_is_refused(trained, tmp_path):
    checkpoint = load_checkpoint(trained[0].coarse_checkpoint)
    checkpoint.stage = "medium"
    save_checkpoint(checkpoint, tmp_path / "odd.pt")
    with pytest.raises(CheckpointError, match="unknown architecture or stage"):
        load_checkpoint(tmp_path / "odd.pt")
    assert isinstance(checkpoint, Checkpoint)


def _softmax_with_blobs(blobs: list[tuple[slice, slice, slice, int]], shape=(12, 16, 40)) -> np.ndarray:
    """Coarse softmax (background, left, right) with each blob called `side` by the network."""
    probabilities = np.zeros((3, *shape), dtype=np.float32)
    probabilities[0] = 1.0
    for z, y, x, side in blobs:
        probabilities[:, z, y, x] = 0.0
        probabilities[side, z, y, x] = 1.0
    return probabilities


def _body(shape=(12, 16, 40), x=slice(0, 40)) -> np.ndarray:
    body = np.zeros(shape, dtype=bool)
    body[:, :, x] = True
    return body


def test_two_femurs_take_their_side_from_their_place_along_lps_x_not_the_networks_label():
    # Both blobs called "right" by the network, and a third, small one called "left" beside the first.
    probabilities = _softmax_with_blobs(
        [
            (slice(2, 8), slice(4, 10), slice(2, 10), 2),
            (slice(2, 8), slice(4, 10), slice(28, 36), 2),
            (slice(10, 11), slice(0, 2), slice(0, 2), 1),
        ]
    )
    labels = assign_sides(probabilities, _body())
    assert (labels[2:8, 4:10, 28:36] == 1).all() and (labels[2:8, 4:10, 2:10] == 2).all()  # +x is the left
    assert not labels[10].any()  # the stray component is dropped


def test_a_larger_false_femur_on_the_midline_is_never_taken_for_a_hip():
    # A vertebral body called femur (bigger than either hip, straddling the midline), and the two hips.
    probabilities = _softmax_with_blobs(
        [
            (slice(0, 12), slice(2, 14), slice(15, 25), 1),
            (slice(4, 8), slice(4, 8), slice(2, 7), 2),
            (slice(4, 8), slice(4, 8), slice(33, 38), 2),
        ]
    )
    labels = assign_sides(probabilities, _body())
    assert not labels[:, :, 15:25].any()
    assert (labels[4:8, 4:8, 33:38] == 1).all() and (labels[4:8, 4:8, 2:7] == 2).all()


def test_femurs_joined_by_a_false_bridge_are_split_at_the_bodys_midline():
    # One component across the body; the body (not the grid) is centred at x = 24.5.
    probabilities = _softmax_with_blobs([(slice(2, 8), slice(4, 10), slice(10, 40), 1)])
    labels = assign_sides(probabilities, _body(x=slice(10, 40)))
    assert (labels[2:8, 4:10, 25:40] == 1).all() and (labels[2:8, 4:10, 10:25] == 2).all()


def test_a_single_hip_in_view_is_named_by_its_side_of_the_body():
    probabilities = _softmax_with_blobs([(slice(2, 8), slice(4, 10), slice(2, 10), 1)])  # network says left
    labels = assign_sides(probabilities[[0, 1]], _body())  # a femur-or-not model: two classes
    assert (labels[2:8, 4:10, 2:10] == 2).all() and not (labels == 1).any()  # it lies at -x: the right


def test_mirroring_flips_image_and_labels_together(monkeypatch):
    labels = np.zeros((16, 16, 16), dtype=np.uint8)
    labels[4:12, 4:12, 0:5] = 1  # a femur at the low-x edge
    volume = data.Volume.build(labels.astype(np.float32), labels)
    stage = StageConfig(
        spacing_mm=1.0,
        patch_size=(16, 16, 16),
        base_width=4,
        depth=2,
        epochs=1,
        foreground_fraction=0.0,
        scale_jitter=0.0,
        shift_hu=0.0,
        mirror=0.5,
    )
    sampler = data.PatchSampler(volumes=[volume], stage=stage, window=(0.0, 1.0))
    monkeypatch.setattr(
        sampler, "_source_patch", lambda rng: (volume.image, volume.labels)
    )  # the whole volume
    images, patch_labels = sampler.batch(np.random.default_rng(0), 16)
    assert torch.equal(images[:, 0] > 0.5, patch_labels[:, 0] == 1)
    at_low_x = patch_labels[:, 0, 8, 8, 1] == 1
    assert at_low_x.any() and (~at_low_x).any()  # some patches mirrored, some not
    assert (patch_labels[~at_low_x, 0, 8, 8, 14] == 1).all()
    with pytest.raises(ValueError, match="mirror"):
        StageConfig(spacing_mm=1.0, patch_size=(16, 16, 16), base_width=4, depth=2, epochs=1, mirror=1.5)


def test_a_crop_runs_as_one_window_rounded_up_for_the_depth_and_a_big_volume_in_the_trained_windows(trained):
    coarse = load_checkpoint(trained[1] / "coarse.pt")  # depth 2: sides rounded up to multiples of 4
    assert inference_window(coarse, (37, 50, 41)) == (40, 52, 44)
    side = round(WHOLE_VOLUME_WINDOW_VOXELS ** (1 / 3)) + 8
    assert inference_window(coarse, (side, side, side)) == tuple(coarse.patch_size)


def _bare_checkpoint(weight: float) -> Checkpoint:
    return Checkpoint(
        stage="fine",
        architecture="VBNet",
        architecture_args={},
        spacing_mm=1.0,
        patch_size=(16, 16, 16),
        hu_window=(-200.0, 1600.0),
        margin_mm=8.0,
        sliding_overlap=0.25,
        state_dict={"w": torch.tensor([weight])},
        epochs_total=3,
    )


def _epoch(checkpoint: Checkpoint, epoch: int, weight: float, val_dice: float | None) -> dict:
    checkpoint.epoch, checkpoint.state_dict = epoch, {"w": torch.tensor([weight])}
    metrics = {"stage": "fine", "stage_epoch": epoch, "loss": 0.1} | (
        {"val_dice": val_dice} if val_dice else {}
    )
    checkpoint.history = [*checkpoint.history, metrics]
    keep_best(checkpoint, val_dice)
    return metrics


def test_a_stage_whose_last_validation_collapsed_ends_on_its_best_validated_weights():
    checkpoint = _bare_checkpoint(0.0)
    _epoch(checkpoint, 1, 1.0, 0.97)
    _epoch(checkpoint, 2, 2.0, 0.98)
    _epoch(checkpoint, 3, 3.0, 0.69)
    assert settle_final_weights(checkpoint) == {"weights_of_epoch": 2}
    assert checkpoint.state_dict["w"].item() == 2.0 and checkpoint.best_state_dict is None


def test_a_stage_ends_on_its_last_weights_when_their_validation_is_about_as_good():
    checkpoint = _bare_checkpoint(0.0)
    _epoch(checkpoint, 1, 1.0, 0.985)
    _epoch(checkpoint, 2, 2.0, None)
    _epoch(checkpoint, 3, 3.0, 0.984)
    assert settle_final_weights(checkpoint) == {"weights_of_epoch": 3}
    assert checkpoint.state_dict["w"].item() == 3.0
