"""Training data: cases resampled the way inference resamples them, and patches drawn from them.

The coarse stage learns from whole CTs on the 3 mm grid; the fine stage from 1 mm crops around each
reference femur (binary: femur or not; the side is known from the crop). The fine stage has a second input
channel, the coarse-resolution femur mask of its side: it tells the fine model where the VOI ends (the
lesser-trochanter level, the acetabulum), which a small 1 mm patch cannot see. Patches are centred on the femur
with probability foreground_fraction and anywhere otherwise (background far from the femur, pelvis, air).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import SimpleITK as sitk
import torch
import torch.nn.functional as F

from inference.ml.segmentation import grids
from inference.ml.segmentation.cascade import (
    CROP_INTERPOLATOR,
    DOWNSAMPLING_INTERPOLATOR,
    SIDES,
    coarse_prior,
    fine_input,
)
from inference.ml.segmentation.config import StageConfig
from inference.ml.segmentation.postprocess import bounding_box

# Training crops are wider than the inference margin, so the fine model also sees what a loose coarse
# box lets in.
TRAINING_EXTRA_MARGIN_MM = 8.0
# Spacing and origin may differ by rounding between an image and its mask written by another tool.
GRID_TOLERANCE = 1e-3


@dataclass
class Volume:
    """A normalised image (channels, z, y, x) float16, its labels (z, y, x) uint8, and the flat indices of
    each label."""

    image: np.ndarray
    labels: np.ndarray
    foreground: dict[int, np.ndarray]

    @classmethod
    def build(cls, image: np.ndarray, labels: np.ndarray) -> Volume:
        foreground = {int(k): np.flatnonzero(labels == k).astype(np.int64) for k in np.unique(labels) if k}
        image = image if image.ndim == 4 else image[None]
        return cls(image.astype(np.float16), labels.astype(np.uint8), foreground)


def read_case(image_path: str | Path, mask_path: str | Path) -> tuple[sitk.Image, sitk.Image]:
    """An image and its reference mask; ValueError when they are not on the same grid."""
    image, mask = sitk.ReadImage(str(image_path)), sitk.ReadImage(str(mask_path), sitk.sitkUInt8)
    same = (
        image.GetSize() == mask.GetSize()
        and np.allclose(image.GetSpacing(), mask.GetSpacing(), atol=GRID_TOLERANCE)
        and np.allclose(image.GetOrigin(), mask.GetOrigin(), atol=GRID_TOLERANCE)
        and np.allclose(image.GetDirection(), mask.GetDirection(), atol=GRID_TOLERANCE)
    )
    if not same:
        raise ValueError(f"mask {mask_path} is not on the grid of image {image_path}")
    mask.CopyInformation(image)
    return image, mask


def coarse_volume(image: sitk.Image, mask: sitk.Image, stage: StageConfig, window) -> Volume:
    """The whole case on the coarse grid, labelled 1 for femur; each side's mask smoothed like the image,
    then thresholded."""
    grid = grids.grid_over_image(image, stage.spacing_mm)
    volume = grids.resample(image, grid, DOWNSAMPLING_INTERPOLATOR, grids.AIR_HU)
    labels = _resampled_labels(mask, grid, DOWNSAMPLING_INTERPOLATOR, SIDES)
    # Femur or not: the side is read from the femur's place at inference, so a mirrored patch stays true.
    return Volume.build(
        grids.normalise_hu(sitk.GetArrayViewFromImage(volume), window), (labels > 0).astype(np.uint8)
    )


def fine_volumes(
    image: sitk.Image, mask: sitk.Image, stage: StageConfig, window, coarse_spacing_mm: float
) -> list[Volume]:
    """One 1 mm crop per reference femur, labelled 1 for femur and 0 elsewhere, with its coarse prior."""
    crops = []
    mask_array = sitk.GetArrayViewFromImage(mask)
    coarse_grid = grids.grid_over_image(image, coarse_spacing_mm)
    coarse_labels = sitk.GetImageFromArray(
        _resampled_labels(mask, coarse_grid, DOWNSAMPLING_INTERPOLATOR, SIDES)
    )
    coarse_labels.CopyInformation(coarse_grid)
    for side in SIDES:
        box = bounding_box(mask_array == side)
        if box is None:
            continue
        first, last = box
        low, high = grids.index_box_to_physical(image, first[::-1], last[::-1] + 1)
        margin = stage.margin_mm + TRAINING_EXTRA_MARGIN_MM
        region, _, _ = grids.region_covering(image, low - margin, high + margin)
        grid = grids.axis_aligned_grid(low - margin, high + margin, stage.spacing_mm)
        volume = grids.resample(region, grid, CROP_INTERPOLATOR, grids.AIR_HU)
        side_mask = sitk.Cast(mask == side, sitk.sitkUInt8)
        labels = _resampled_labels(side_mask, grid, sitk.sitkLinear, (1,))
        prior = coarse_prior(coarse_labels == side, grid)
        crops.append(Volume.build(fine_input(volume, prior, window), labels))
    return crops


def _resampled_labels(mask: sitk.Image, grid: sitk.Image, interpolator: int, labels) -> np.ndarray:
    """Each label's indicator resampled as a fraction, then the label where that fraction is >= 0.5."""
    out = np.zeros(grid.GetSize()[::-1], dtype=np.uint8)
    for label in labels:
        fraction = grids.resample(sitk.Cast(mask == label, sitk.sitkFloat32), grid, interpolator, 0.0)
        out[sitk.GetArrayViewFromImage(fraction) >= 0.5] = label
    return out


class PatchSampler:
    """Draws augmented training batches (image, labels) from a list of Volumes.

    Augmentation is light and anatomy-preserving: an isotropic zoom of +/- scale_jitter about the patch
    centre, a global intensity shift, and (with probability stage.mirror) a left-right mirror: both stages
    label femur or not, a mirrored left hip is a right hip, and each side learns from both. When the stage
    asks for it, intensity augmentation follows (IntensityAugmentation); it never touches the labels.
    """

    def __init__(self, *, volumes: list[Volume], stage: StageConfig, window: tuple[float, float]):
        if not volumes:
            raise ValueError("no training volumes to sample patches from")
        self.volumes, self.stage = volumes, stage
        self.size = np.array(stage.patch_size)
        self.source_size = np.ceil(self.size * (1 + stage.scale_jitter)).astype(int)
        self.shift = stage.shift_hu / (window[1] - window[0])
        self.intensity = IntensityAugmentation(stage, window)

    def batch(self, rng: np.random.Generator, count: int) -> tuple[torch.Tensor, torch.Tensor]:
        pairs = [self._source_patch(rng) for _ in range(count)]
        images = torch.from_numpy(np.stack([p[0] for p in pairs]).astype(np.float32))
        labels = torch.from_numpy(np.stack([p[1] for p in pairs]).astype(np.float32))[:, None]
        return self._augment(images, labels, rng)

    def _source_patch(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        volume = self.volumes[rng.integers(len(self.volumes))]
        if volume.foreground and rng.random() < self.stage.foreground_fraction:
            label = list(volume.foreground)[rng.integers(len(volume.foreground))]
            indices = volume.foreground[label]
            centre = np.array(np.unravel_index(indices[rng.integers(len(indices))], volume.labels.shape))
        else:
            centre = np.array([rng.integers(s) for s in volume.labels.shape])
        image = np.stack([_crop(channel, centre, self.source_size) for channel in volume.image])
        return image, _crop(volume.labels, centre, self.source_size)

    def _augment(self, images: torch.Tensor, labels: torch.Tensor, rng: np.random.Generator):
        count = images.shape[0]
        zoom = 1 + rng.uniform(-self.stage.scale_jitter, self.stage.scale_jitter, count)
        theta = torch.zeros(count, 3, 4)
        reach = torch.from_numpy(zoom[:, None] * self.size[None, ::-1] / self.source_size[None, ::-1])
        theta[:, [0, 1, 2], [0, 1, 2]] = reach.float()
        grid = F.affine_grid(theta, [count, 1, *self.size.tolist()], align_corners=False)
        images = F.grid_sample(images, grid, mode="bilinear", align_corners=False)
        labels = F.grid_sample(labels, grid, mode="nearest", align_corners=False)
        shift = torch.from_numpy(rng.uniform(-self.shift, self.shift, count)).float()
        images[:, 0] += shift[:, None, None, None]  # the CT channel only; a prior is not an intensity
        mirrored = torch.from_numpy(rng.random(count) < self.stage.mirror)
        images[mirrored] = images[mirrored].flip(-1)  # x, the patient's left-right axis
        labels[mirrored] = labels[mirrored].flip(-1)
        if self.intensity.active:  # drawn last, so the geometry of a run without it is unchanged
            images[:, 0] = self.intensity(images[:, 0], rng)
        return images, labels.long()


class IntensityAugmentation:
    """Histogram scale and shift as on HU before windowing, a smooth bias field and a gamma curve, on the
    windowed CT channel (values in [0, 1]); per patch, from the stage's settings.

    A windowed value n = (HU - low) / width becomes, for HU * s + b, n * s + (low * (s - 1) + b) / width,
    clipped to [0, 1] as the window clips: exact wherever the original HU lay inside the window.
    """

    def __init__(self, stage: StageConfig, window: tuple[float, float]):
        self.stage, self.low, self.width = stage, float(window[0]), float(window[1] - window[0])
        self.active = bool(stage.hu_scale or stage.hu_shift or stage.gamma or stage.bias_field)

    def __call__(self, ct: torch.Tensor, rng: np.random.Generator) -> torch.Tensor:
        count, stage = ct.shape[0], self.stage
        scale = rng.uniform(1 - stage.hu_scale, 1 + stage.hu_scale, count)
        shift = rng.uniform(-stage.hu_shift, stage.hu_shift, count)
        offset = (self.low * (scale - 1) + shift) / self.width
        ct = (ct * _per_patch(scale) + _per_patch(offset)).clamp(0.0, 1.0)
        if stage.bias_field:
            ct = (ct * bias_field(rng, count, ct.shape[1:], stage.bias_field)).clamp(0.0, 1.0)
        if stage.gamma:
            ct = ct ** _per_patch(np.exp(rng.uniform(-stage.gamma, stage.gamma, count)))
        return ct


def bias_field(rng: np.random.Generator, count: int, shape, amplitude: float) -> torch.Tensor:
    """A smooth multiplicative field per patch: 1 + amplitude * U(-1, 1) at 3 x 3 x 3 control points,
    trilinear in between (so it stays within 1 +/- amplitude)."""
    control = torch.from_numpy(rng.uniform(-amplitude, amplitude, (count, 1, 3, 3, 3))).float()
    field = F.interpolate(control, size=tuple(shape), mode="trilinear", align_corners=True)
    return 1.0 + field[:, 0]


def _per_patch(values: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.asarray(values, dtype=np.float32))[:, None, None, None]


def _crop(array: np.ndarray, centre: np.ndarray, size: np.ndarray) -> np.ndarray:
    """A size-shaped block centred on centre; zeros (air/fat, background) where it leaves the array."""
    start = centre - size // 2
    out = np.zeros(tuple(size), dtype=array.dtype)
    src_lo, src_hi = np.maximum(start, 0), np.minimum(start + size, array.shape)
    if np.any(src_hi <= src_lo):
        return out
    dst_lo = src_lo - start
    dst = tuple(slice(a, a + (b - c)) for a, b, c in zip(dst_lo, src_hi, src_lo, strict=True))
    out[dst] = array[tuple(slice(a, b) for a, b in zip(src_lo, src_hi, strict=True))]
    return out
