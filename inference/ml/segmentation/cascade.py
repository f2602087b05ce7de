"""Cascade inference: find each proximal femur at 3 mm, then outline it at 1 mm, on any CT grid.

Steps (vbnet.md, "Cascade"): whole CT -> 3 mm axis-aligned grid (B-spline) -> coarse VB-Net -> largest
component per side -> bounding box + margin -> crop of the original -> 1 mm grid (B-spline) -> fine VB-Net
with overlapping sliding windows -> femur probability back onto the original grid -> argmax -> largest
component per side. The result is a uint8 label image on the input's own grid (0 background, 1 left,
2 right proximal femur).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import SimpleITK as sitk
import torch
from monai.inferers import sliding_window_inference
from scipy import ndimage

from inference.ml.segmentation import grids
from inference.ml.segmentation.checkpoint import Checkpoint
from inference.ml.segmentation.postprocess import FULL_CONNECTIVITY, bounding_box, keep_largest_component
from voi.labels import FEMUR_LABELS

# The sides the cascade outlines, one fine pass each (the label contract's femur labels).
SIDES = FEMUR_LABELS
# A femur keeps at least this far from the body's midline (in coarse voxels; 3 voxels = 9 mm at 3 mm).
MIDLINE_CLEARANCE_VOXELS = 3
# The largest volume run as one window (a 1 mm femur crop, a whole CT at 3 mm: 160^3 voxels); its
# activations stay under about 1.5 GB for the demo network on the CPU.
WHOLE_VOLUME_WINDOW_VOXELS = 160**3
# Soft tissue and bone, not air: what finds the body's midline.
BODY_HU = -300.0
# The B-spline kernel without prefiltering smooths while it samples: the anti-aliasing a 0.7 -> 3 mm
# reduction needs, at the cost of one pass over the output grid only.
DOWNSAMPLING_INTERPOLATOR = sitk.sitkBSplineResampler
# Upsampling a small crop can afford the exact (prefiltered) cubic B-spline.
CROP_INTERPOLATOR = sitk.sitkBSpline

Progress = Callable[[int, str], None]


def segment_image(
    image: sitk.Image,
    coarse: Checkpoint,
    fine: Checkpoint,
    *,
    on_progress: Progress | None = None,
    confidence_out: dict[int, float] | None = None,
) -> sitk.Image:
    """Label the left (1) and right (2) proximal femur of a CT image (HU), on the image's own grid.

    `confidence_out`, when given, receives each found side's mean femur probability over its mask (what QC
    reads as the model's confidence)."""
    _check_checkpoints(coarse, fine)
    report = on_progress or (lambda percent, message: None)
    report(0, f"coarse: resampling to {coarse.spacing_mm:g} mm")
    coarse_labels, coarse_grid = locate_femurs(image, coarse, report)
    labels = np.zeros(image.GetSize()[::-1], dtype=np.uint8)
    best = np.zeros(labels.shape, dtype=np.float32)  # calloc: only the crops' pages are ever touched.
    regions = {}
    sides = [s for s in SIDES if (coarse_labels == s).any()]
    for done, side in enumerate(sides):
        report(30 + 60 * done // max(len(sides), 1), f"fine: side {side}")
        found = outline_femur(image, fine, coarse_grid, coarse_labels == side)
        if found is not None:
            regions[side] = _paste(labels, best, side, *found)
    report(95, "post-processing")
    for side, region in regions.items():
        keep_largest_component(labels[region], side)
    if confidence_out is not None:
        confidence_out.update(mean_probability(labels, best, regions))
    return _label_image(labels, image)


def mean_probability(labels: np.ndarray, best: np.ndarray, regions: dict) -> dict[int, float]:
    """Each side's mean femur probability over the voxels it labels (best holds the winning probability)."""
    means = {}
    for side, region in regions.items():
        inside = labels[region] == side
        if inside.any():
            means[side] = float(best[region][inside].mean())
    return means


def locate_femurs(image: sitk.Image, coarse: Checkpoint, report: Progress | None = None):
    """Coarse labels (z, y, x) on an axis-aligned grid over the whole image, one component per side,
    and that grid."""
    grid = grids.grid_over_image(image, coarse.spacing_mm)
    volume = grids.resample(image, grid, DOWNSAMPLING_INTERPOLATOR, grids.AIR_HU)
    if report:
        report(10, "coarse: network on {}x{}x{} voxels".format(*grid.GetSize()))
    array = sitk.GetArrayViewFromImage(volume)
    probabilities = predict(coarse, grids.normalise_hu(array, coarse.hu_window))
    return assign_sides(probabilities, array > BODY_HU), grid


def assign_sides(probabilities: np.ndarray, body: np.ndarray) -> np.ndarray:
    """Coarse labels (z, y, x) from the coarse softmax on an axis-aligned LPS grid: one component per side.

    Which voxels are femur is the network's call (femur probability over background; a model with a class
    per side has them summed). Which femur is which, and which component is a femur at all, is anatomy's,
    on a grid where the patient's left is +x: the femur voxels are cut at the body's midline (the x centre
    of `body`, a mask of the patient on the same grid), and on each side the largest component that keeps
    away from the midline is that side's femur. A femur never reaches the midline; what the network may
    mistake for one there (a vertebral body, the sacrum, the symphysis, both hips joined by a false bridge
    through the pelvis) does. Only when every component on a side reaches the midline is the largest kept.
    """
    femur = probabilities[0] < probabilities[1:].sum(axis=0)
    midline = float(np.nonzero(body)[2].mean()) if body.any() else (femur.shape[2] - 1) / 2
    x = np.arange(femur.shape[2])
    near_midline = np.abs(x - midline) <= MIDLINE_CLEARANCE_VOXELS
    labels = np.zeros(femur.shape, dtype=np.uint8)
    for side, half in ((1, x > midline), (2, x <= midline)):
        components, count = ndimage.label(femur & half, structure=FULL_CONNECTIVITY)
        if count == 0:
            continue
        sizes = np.bincount(components.ravel(), minlength=count + 1)
        sizes[0] = 0
        away = sizes.copy()
        away[np.unique(components[:, :, near_midline])] = 0
        labels[components == (away.argmax() if away.any() else sizes.argmax())] = side
    return labels


def outline_femur(image: sitk.Image, fine: Checkpoint, coarse_grid: sitk.Image, side_mask: np.ndarray):
    """The fine femur probability on the original grid around one coarse component.

    Returns (probability array, region slices of the original array) or None when the box misses the image;
    ValueError when side_mask is empty.
    """
    low, high = _box_around(side_mask, coarse_grid, fine.margin_mm)
    found = grids.region_covering(image, low, high)
    if found is None:
        return None
    region, start, stop = found
    fine_grid = grids.axis_aligned_grid(low, high, fine.spacing_mm)
    crop = grids.resample(region, fine_grid, CROP_INTERPOLATOR, grids.AIR_HU)
    probabilities = predict(fine, _fine_input(crop, fine, side_mask, coarse_grid, fine_grid))
    femur = sitk.GetImageFromArray(probabilities[1])
    femur.CopyInformation(fine_grid)
    on_original = grids.resample(femur, region, sitk.sitkLinear, 0.0)
    slices = tuple(slice(a, b) for a, b in zip(start[::-1], stop[::-1], strict=True))
    return sitk.GetArrayFromImage(on_original), slices


def compute_device() -> torch.device:
    """The GPU when there is one (the `gpu` queue's workers), else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _fine_input(crop, fine: Checkpoint, side_mask: np.ndarray, coarse_grid, fine_grid) -> np.ndarray:
    """The crop, normalised, plus (for a two-input fine model) the coarse mask of its side on the crop."""
    if fine.architecture_args.get("in_channels", 1) == 1:
        return grids.normalise_hu(sitk.GetArrayViewFromImage(crop), fine.hu_window)
    coarse_mask = sitk.GetImageFromArray(side_mask.astype(np.uint8))
    coarse_mask.CopyInformation(coarse_grid)
    return fine_input(crop, coarse_prior(coarse_mask, fine_grid), fine.hu_window)


def coarse_prior(side_mask: sitk.Image, fine_grid: sitk.Image) -> np.ndarray:
    """A coarse-grid mask of one femur, linearly resampled onto the fine grid (values 0-1). Training
    (data.fine_volumes) and inference build the fine model's second channel with this one function."""
    prior = grids.resample(sitk.Cast(side_mask, sitk.sitkFloat32), fine_grid, sitk.sitkLinear, 0.0)
    return sitk.GetArrayFromImage(prior)


def fine_input(crop: sitk.Image, prior: np.ndarray, window) -> np.ndarray:
    """The fine network's two channels: the normalised crop and the coarse prior."""
    return np.stack([grids.normalise_hu(sitk.GetArrayViewFromImage(crop), window), prior])


def predict(checkpoint: Checkpoint, volume: np.ndarray) -> np.ndarray:
    """Softmax probabilities (classes, z, y, x) from overlapping sliding windows over a normalised volume
    ((z, y, x), or (channels, z, y, x) for a network with several inputs).

    Windows run on the network's device; the volume and the blended output stay in CPU memory.
    """
    network = _network(checkpoint)
    inputs = torch.from_numpy(np.ascontiguousarray(volume, dtype=np.float32))
    inputs = inputs[None, None] if inputs.dim() == 3 else inputs[None]
    with torch.inference_mode():
        logits = sliding_window_inference(
            inputs,
            roi_size=inference_window(checkpoint, inputs.shape[2:]),
            sw_batch_size=1,
            predictor=network,
            overlap=checkpoint.sliding_overlap,
            mode="gaussian",
            sw_device=next(network.parameters()).device,
            device=torch.device("cpu"),
        )
    return torch.softmax(logits[0], dim=0).numpy()


def inference_window(checkpoint: Checkpoint, shape) -> tuple[int, ...]:
    """One window over the whole volume (each side rounded up to what the network's depth needs) when it
    holds at most WHOLE_VOLUME_WINDOW_VOXELS, else the checkpoint's window.

    The network is fully convolutional: one pass over a femur crop computes each voxel once, where
    overlapping windows compute the overlap two to eight times and blend seams.
    """
    multiple = 2 ** int(checkpoint.architecture_args.get("depth", 0))
    whole = tuple(-(-int(size) // multiple) * multiple for size in shape)
    return whole if np.prod(whole) <= WHOLE_VOLUME_WINDOW_VOXELS else tuple(checkpoint.patch_size)


def _network(checkpoint: Checkpoint) -> torch.nn.Module:
    # Building from the state dict costs milliseconds; caching on the checkpoint keeps repeated calls cheap.
    if checkpoint._network is None:
        checkpoint._network = checkpoint.build_network().to(compute_device())
    return checkpoint._network


def _box_around(mask: np.ndarray, grid: sitk.Image, margin_mm: float) -> tuple[np.ndarray, np.ndarray]:
    """LPS box of a mask on an axis-aligned grid, grown by the margin and by half a coarse voxel."""
    box = bounding_box(mask)
    if box is None:
        # segment_image only outlines sides the coarse stage found; a direct caller may not have checked.
        raise ValueError("the coarse mask of this side is empty: there is no femur to outline")
    first, last = box
    spacing, origin = np.array(grid.GetSpacing()), np.array(grid.GetOrigin())
    grow = margin_mm + spacing / 2
    return origin + first[::-1] * spacing - grow, origin + last[::-1] * spacing + grow


def _paste(labels: np.ndarray, best: np.ndarray, side: int, probability: np.ndarray, region: tuple):
    """Write one side's argmax into the label map; where two crops overlap the likelier side wins."""
    current = best[region]
    wins = (probability >= 0.5) & (probability > current)
    labels[region][wins] = side
    np.maximum(current, probability, out=current)
    return region


def _label_image(labels: np.ndarray, like: sitk.Image) -> sitk.Image:
    result = sitk.GetImageFromArray(labels)
    result.CopyInformation(like)
    return result


def _check_checkpoints(coarse: Checkpoint, fine: Checkpoint) -> None:
    if coarse.stage != "coarse" or fine.stage != "fine":
        raise ValueError(f"expected a coarse and a fine checkpoint, got {coarse.stage!r} and {fine.stage!r}")
