"""Clean-up of label maps: one connected proximal femur per side, and its bounding box."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

# 26-connectivity: voxels touching by a corner belong to the same bone.
FULL_CONNECTIVITY = np.ones((3, 3, 3), dtype=bool)


def keep_largest_component(labels: np.ndarray, label: int) -> None:
    """In place: keep only the largest 26-connected component of `label` (stray islands are errors)."""
    components, count = ndimage.label(labels == label, structure=FULL_CONNECTIVITY)
    if count <= 1:
        return
    sizes = np.bincount(components.ravel())
    sizes[0] = 0
    labels[(components != 0) & (components != sizes.argmax())] = 0


def bounding_box(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(first, last) array indices of the True voxels, inclusive; None for an empty mask."""
    points = np.argwhere(mask)
    if points.size == 0:
        return None
    return points.min(axis=0), points.max(axis=0)
