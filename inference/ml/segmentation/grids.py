"""Resampling in physical (LPS) space, so that any CT grid works: any origin, spacing or direction.

The networks always see an axis-aligned LPS grid (identity direction), whatever the scanner wrote. This is
what makes label 1 (patient's left, +x in LPS) mean the same thing for every input.
"""

from __future__ import annotations

import itertools

import numpy as np
import SimpleITK as sitk

# Outside the scanned field of view there is air.
AIR_HU = -1024.0


def physical_corners(image: sitk.Image, start=(0, 0, 0), stop=None) -> np.ndarray:
    """The LPS points (8 x 3) of the corner voxel centres of an index box [start, stop) of the image."""
    stop = image.GetSize() if stop is None else stop
    corners = itertools.product(*[(lo, hi - 1) for lo, hi in zip(start, stop, strict=True)])
    return np.array(
        [image.TransformContinuousIndexToPhysicalPoint([float(c) for c in corner]) for corner in corners]
    )


def axis_aligned_grid(low: np.ndarray, high: np.ndarray, spacing_mm: float) -> sitk.Image:
    """An empty identity-direction image whose voxel centres cover the LPS box [low, high]."""
    size = np.maximum(np.ceil((np.asarray(high) - low) / spacing_mm).astype(int) + 1, 1)
    grid = sitk.Image([int(s) for s in size], sitk.sitkUInt8)
    grid.SetSpacing([spacing_mm] * 3)
    grid.SetOrigin([float(v) for v in low])
    return grid


def grid_over_image(image: sitk.Image, spacing_mm: float) -> sitk.Image:
    """An axis-aligned grid at spacing_mm that covers the whole image."""
    corners = physical_corners(image)
    return axis_aligned_grid(corners.min(axis=0), corners.max(axis=0), spacing_mm)


def resample(image: sitk.Image, reference: sitk.Image, interpolator: int, default: float = 0.0) -> sitk.Image:
    """The image on the reference grid, as float32."""
    return sitk.Resample(image, reference, sitk.Transform(), interpolator, default, sitk.sitkFloat32)


def region_covering(image: sitk.Image, low: np.ndarray, high: np.ndarray, pad_voxels: int = 2):
    """The smallest index box of the image that holds the LPS box [low, high], and that sub-image.

    Returns (sub_image, start, stop) with start/stop in (x, y, z) index order, or None when the box
    misses the image.
    """
    box = np.array(list(itertools.product(*zip(low, high, strict=True))))
    indices = np.array([image.TransformPhysicalPointToContinuousIndex([float(v) for v in p]) for p in box])
    size = np.array(image.GetSize())
    start = np.clip(np.floor(indices.min(axis=0)).astype(int) - pad_voxels, 0, size)
    stop = np.clip(np.ceil(indices.max(axis=0)).astype(int) + pad_voxels + 1, 0, size)
    if np.any(stop <= start):
        return None
    sub = sitk.RegionOfInterest(image, [int(v) for v in stop - start], [int(v) for v in start])
    return sub, tuple(int(v) for v in start), tuple(int(v) for v in stop)


def index_box_to_physical(image: sitk.Image, start, stop) -> tuple[np.ndarray, np.ndarray]:
    """The LPS bounding box of the voxel centres in the index box [start, stop) of image."""
    corners = physical_corners(image, start, stop)
    return corners.min(axis=0), corners.max(axis=0)


def normalise_hu(array: np.ndarray, window: tuple[float, float]) -> np.ndarray:
    """HU clipped to the window and scaled to [0, 1]: air and fat map to 0, which is also the padding."""
    low, high = window
    out = np.clip(array, low, high, out=np.empty_like(array, dtype=np.float32))
    out -= low
    out *= 1.0 / (high - low)
    return out
