"""Training of the cascade: the coarse stage, then the fine stage, with a checkpoint after every epoch.

Each epoch draws its random numbers from (seed, stage, epoch) alone, so a run resumed from a checkpoint
makes the same weights as a run that was never interrupted, and the same seed makes the same weights.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import SimpleITK as sitk
import torch

from inference.ml.losses import segmentation_loss
from inference.ml.segmentation import data
from inference.ml.segmentation.cascade import compute_device, predict, segment_image
from inference.ml.segmentation.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from inference.ml.segmentation.config import SegmentationConfig, StageConfig
from inference.ml.segmentation.heldout import HELDOUT, HeldoutProfile, heldout_cases, heldout_verdict
from inference.ml.segmentation.randomised import randomised_cases
from inference.ml.vbnet import VBNet
from voi.metrics import dice, table2_summary, voi_agreement

Case = tuple[str | Path, str | Path]
Progress = Callable[[int, int, dict], None]
# Both stages say femur or not; the side comes from where a femur lies (cascade.assign_sides).
STAGE_CLASSES = {"coarse": 2, "fine": 2}
# The fine stage reads the CT and the coarse mask of its side (data.py).
STAGE_INPUTS = {"coarse": 1, "fine": 2}
STAGE_ORDER = ("coarse", "fine")
# A stage ends on its best validated weights instead of its last when the last validation is this much worse.
ROLLBACK_DICE_DROP = 0.01


@dataclass
class TrainingResult:
    """What a training run produced. completed is False when should_stop() ended it early."""

    completed: bool
    coarse_checkpoint: Path | None = None
    fine_checkpoint: Path | None = None
    epochs_done: int = 0
    epochs_total: int = 0
    seconds: float = 0.0
    validation: dict = field(default_factory=dict)
    per_case: list = field(default_factory=list)
    # The held-out profile (heldout.py): its Table 2 summary, per-case agreement and verdict against validation.
    out_of_distribution: dict = field(default_factory=dict)
    out_of_distribution_per_case: list = field(default_factory=list)


class StopRequested(Exception):
    """Raised inside the loop when should_stop() says so; never leaves train_segmentation."""


def checkpoint_path(out_dir: str | Path, stage: str) -> Path:
    return Path(out_dir) / f"{stage}.pt"


def train_segmentation(
    config: SegmentationConfig,
    train_cases: Sequence[Case],
    val_cases: Sequence[Case],
    out_dir: str | Path,
    *,
    on_progress: Progress | None = None,
    should_stop: Callable[[], bool] | None = None,
    resume: bool = True,
    heldout: HeldoutProfile | None = HELDOUT,
) -> TrainingResult:
    """Train the coarse then the fine VB-Net; checkpoints go to out_dir/coarse.pt and out_dir/fine.pt.

    on_progress(epoch, total, metrics) runs after every epoch (epochs counted over both stages; metrics hold
    stage, loss and, when validated, val_dice). should_stop() is asked between steps; when it answers True
    the run returns with completed=False, keeping the last finished epoch's checkpoint for a later resume.
    With resume=False existing checkpoints are ignored and overwritten. A completed run also scores the
    held-out profile (heldout.py; its cases are generated into out_dir/heldout); heldout=None skips it.
    A configuration with randomised_cases first generates them into out_dir/randomised (randomised.py) and
    trains on them beside train_cases; an epoch keeps the length train_cases alone give it.
    """
    if not train_cases:
        raise ValueError("training needs at least one training case")
    started = time.perf_counter()
    total = config.coarse.epochs + config.fine.epochs
    result = TrainingResult(completed=False, epochs_total=total)
    loop = _Loop(config, out_dir, on_progress or (lambda *a: None), should_stop or (lambda: False), resume)
    with _deterministic():
        try:
            training = [*train_cases, *_randomised_training_cases(config, Path(out_dir), loop.should_stop)]
            # The stages run in STAGE_ORDER; each path is kept as soon as its stage ends, for a stopped run too.
            result.coarse_checkpoint = coarse_path = loop.run_stage(
                "coarse", training, val_cases, len(train_cases)
            )
            result.fine_checkpoint = fine_path = loop.run_stage("fine", training, val_cases, len(train_cases))
        except StopRequested:
            result.epochs_done, result.seconds = loop.epochs_done, time.perf_counter() - started
            return result
    result.completed, result.epochs_done = True, total
    result.per_case, result.validation = validate_cascade(coarse_path, fine_path, val_cases)
    if heldout is not None:
        try:
            score_heldout(result, (coarse_path, fine_path), heldout, Path(out_dir) / "heldout")
        except (
            ValueError,
            RuntimeError,
            OSError,
        ) as error:  # a failed stress test must not discard the model
            result.out_of_distribution = {"error": f"held-out profile not scored: {error}"[:300]}
    result.seconds = time.perf_counter() - started
    return result


def _randomised_training_cases(config: SegmentationConfig, out_dir: Path, should_stop) -> list[Case]:
    """The configuration's randomised phantom cases (none when it asks for none); a stop request is
    honoured between two cases."""
    if not config.randomised_cases:
        return []

    def before_each(_index: int) -> None:
        if should_stop():
            raise StopRequested

    return list(
        randomised_cases(
            config.randomised_cases,
            config.randomised_matrix,
            out_dir / "randomised",
            seed=config.seed,
            before_each=before_each,
        )
    )


def score_heldout(
    result: TrainingResult, checkpoints: tuple[Path, Path], profile: HeldoutProfile, folder: Path
) -> None:
    """The finished cascade on the held-out profile, summarised like the validation, with its verdict."""
    started = time.perf_counter()
    per_case, summary = validate_cascade(*checkpoints, heldout_cases(profile, folder))
    verdict = heldout_verdict(result.validation.get("dice_mean"), summary.get("dice_mean"))
    result.out_of_distribution = {
        **summary,
        **verdict,
        "profile": profile.description(),
        "seconds": round(time.perf_counter() - started, 1),
    }
    result.out_of_distribution_per_case = per_case


def validate_cascade(coarse_path: Path, fine_path: Path, val_cases: Sequence[Case]) -> tuple[list, dict]:
    """The full cascade on each validation case: its agreement with the reference per side and overall on
    the original grid (``reference_agreement``), and Table 2's summary of the cases' overall values."""
    coarse, fine = load_checkpoint(coarse_path), load_checkpoint(fine_path)
    per_case = []
    for image_path, mask_path in val_cases:
        image, mask = data.read_case(image_path, mask_path)
        per_case.append(reference_agreement(mask, segment_image(image, coarse, fine)))
    summary = table2_summary(
        dice=[case["overall"]["dice"] for case in per_case],
        volume_difference_cm3=[case["overall"]["volume_difference_cm3"] for case in per_case],
    )
    return per_case, summary.as_dict()


def reference_agreement(
    reference: sitk.Image, predicted: sitk.Image, *, surface: bool = True
) -> dict[str, dict]:
    """Dice, HD95, ASSD and VD (reference minus predicted, cm3) of a predicted mask against its reference,
    keyed "1", "2" (the sides) and "overall", by the metrics core's convention (voi.metrics)."""
    if reference.GetSize() != predicted.GetSize():
        raise ValueError(f"masks differ in size: {reference.GetSize()} vs {predicted.GetSize()}")
    result = voi_agreement(
        first=sitk.GetArrayViewFromImage(reference),
        second=sitk.GetArrayViewFromImage(predicted),
        spacing_xyz=reference.GetSpacing(),
        surface=surface,
    )
    return {
        **{str(label): side.as_dict() for label, side in result.per_label.items()},
        "overall": result.overall.as_dict(),
    }


class _Loop:
    def __init__(self, config: SegmentationConfig, out_dir, on_progress, should_stop, resume: bool):
        self.config, self.out_dir = config, Path(out_dir)
        self.on_progress, self.should_stop, self.resume = on_progress, should_stop, resume
        self.epochs_done = 0
        self.device = compute_device()

    def run_stage(self, name: str, train_cases, val_cases, epoch_cases: int) -> Path:
        """Train one stage on train_cases; an epoch draws patches_per_case patches for each of epoch_cases."""
        stage: StageConfig = getattr(self.config, name)
        path = checkpoint_path(self.out_dir, name)
        offset = 0 if name == "coarse" else self.config.coarse.epochs
        checkpoint = self._resume_or_start(name, stage, path)
        self.epochs_done = offset + checkpoint.epoch
        if checkpoint.complete:
            return path
        network, optimiser = self._restore(checkpoint, stage)
        sampler = data.PatchSampler(
            volumes=self._volumes(name, train_cases), stage=stage, window=self.config.hu_window
        )
        validation = self._volumes(name, val_cases) if val_cases else []
        loss_function = segmentation_loss(stage.loss)
        steps = math.ceil(epoch_cases * stage.patches_per_case / stage.batch_size)
        for epoch in range(checkpoint.epoch + 1, stage.epochs + 1):
            loss = self._epoch(network, optimiser, loss_function, sampler, steps, (name, epoch))
            metrics: dict[str, Any] = {"stage": name, "stage_epoch": epoch, "loss": loss}
            if validation and (epoch % stage.validate_every == 0 or epoch == stage.epochs):
                metrics["val_dice"] = _stage_dice(network, checkpoint, validation)
            checkpoint.epoch, checkpoint.history = epoch, [*checkpoint.history, metrics]
            checkpoint.state_dict = network.state_dict()
            checkpoint.optimizer_state = optimiser.state_dict()
            keep_best(checkpoint, metrics.get("val_dice"))
            if epoch == stage.epochs:
                metrics.update(settle_final_weights(checkpoint))
            save_checkpoint(checkpoint, path)
            self.epochs_done = offset + epoch
            self.on_progress(self.epochs_done, self.config.coarse.epochs + self.config.fine.epochs, metrics)
        return path

    def _epoch(self, network, optimiser, loss_function, sampler, steps: int, key: tuple[str, int]) -> float:
        rng = np.random.default_rng([self.config.seed, STAGE_ORDER.index(key[0]), key[1]])
        torch.manual_seed(int(rng.integers(2**31)))
        network.train()
        losses = []
        for _ in range(steps):
            if self.should_stop():
                raise StopRequested
            images, labels = sampler.batch(rng, getattr(self.config, key[0]).batch_size)
            images, labels = images.to(self.device), labels.to(self.device)
            optimiser.zero_grad(set_to_none=True)
            loss = loss_function(network(images), labels)
            loss.backward()
            optimiser.step()
            losses.append(loss.item())
        return float(np.mean(losses))

    def _resume_or_start(self, name: str, stage: StageConfig, path: Path) -> Checkpoint:
        if self.resume and path.exists():
            checkpoint = load_checkpoint(path)
            if checkpoint.config != self.config.as_dict():
                raise CheckpointError(
                    f"{path} was trained with another configuration; "
                    "start again with resume=False or use another out_dir"
                )
            return checkpoint
        torch.manual_seed(self.config.seed + STAGE_ORDER.index(name))
        network = _build_network(name, stage)
        return Checkpoint(
            stage=name,
            architecture="VBNet",
            architecture_args=_architecture_args(name, stage),
            spacing_mm=stage.spacing_mm,
            patch_size=stage.inference_window,
            hu_window=self.config.hu_window,
            margin_mm=stage.margin_mm,
            sliding_overlap=stage.sliding_overlap,
            state_dict=network.state_dict(),
            epochs_total=stage.epochs,
            seed=self.config.seed,
            split_id=self.config.split_id,
            config=self.config.as_dict(),
        )

    def _restore(self, checkpoint: Checkpoint, stage: StageConfig):
        network = checkpoint.build_network().to(self.device)
        optimiser = torch.optim.Adam(network.parameters(), lr=stage.learning_rate)
        if checkpoint.optimizer_state:
            optimiser.load_state_dict(checkpoint.optimizer_state)
        return network, optimiser

    def _volumes(self, name: str, cases) -> list[data.Volume]:
        stage, volumes = getattr(self.config, name), []
        for image_path, mask_path in cases:
            image, mask = data.read_case(image_path, mask_path)
            if name == "coarse":
                volumes.append(data.coarse_volume(image, mask, stage, self.config.hu_window))
            else:
                volumes.extend(
                    data.fine_volumes(
                        image, mask, stage, self.config.hu_window, self.config.coarse.spacing_mm
                    )
                )
        return volumes


def keep_best(checkpoint: Checkpoint, val_dice: float | None) -> None:
    """Remember the weights of the best validated epoch of the stage (a copy, on the CPU)."""
    if val_dice is None or (checkpoint.best_val_dice is not None and val_dice <= checkpoint.best_val_dice):
        return
    checkpoint.best_val_dice, checkpoint.best_epoch = float(val_dice), checkpoint.epoch
    checkpoint.best_state_dict = {
        k: v.detach().to("cpu", copy=True) for k, v in checkpoint.state_dict.items()
    }


def settle_final_weights(checkpoint: Checkpoint) -> dict:
    """At the end of a stage: the last epoch's weights, unless its validation fell clearly below the best
    one's (a late divergence, seen with the demo's high learning rate: Dice 0.98 at fine epoch 20, 0.69 at
    30); then the best epoch's. Returns what was chosen, for the history."""
    last = checkpoint.history[-1].get("val_dice") if checkpoint.history else None
    chosen = checkpoint.epoch
    if (
        checkpoint.best_state_dict is not None
        and last is not None
        and checkpoint.best_val_dice - last > ROLLBACK_DICE_DROP
    ):
        checkpoint.state_dict, chosen = checkpoint.best_state_dict, checkpoint.best_epoch
    checkpoint.best_state_dict = None  # the finished stage keeps one set of weights
    return {"weights_of_epoch": chosen}


def _architecture_args(name: str, stage: StageConfig) -> dict:
    return {
        "in_channels": STAGE_INPUTS[name],
        "out_channels": STAGE_CLASSES[name],
        "base_width": stage.base_width,
        "depth": stage.depth,
        "norm": stage.norm,
    }


def _build_network(name: str, stage: StageConfig) -> VBNet:
    return VBNet(**_architecture_args(name, stage))


def _stage_dice(network, checkpoint: Checkpoint, volumes: list[data.Volume]) -> float:
    """Mean Dice per foreground label of the stage's own output on its own grid (a cheap live signal)."""
    checkpoint.state_dict = network.state_dict()
    checkpoint._network = network.eval()
    scores = []
    for volume in volumes:
        predicted = predict(checkpoint, volume.image.astype(np.float32)).argmax(axis=0)
        # A foreground label is in the reference, so its Dice is always defined.
        scores += [dice(volume.labels == k, predicted == k) for k in volume.foreground]
    checkpoint._network = None
    return float(np.mean(scores)) if scores else float("nan")


@contextlib.contextmanager
def _deterministic():
    """Deterministic kernels while training (same seed, same weights on CPU); the caller's setting after."""
    before = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before)
