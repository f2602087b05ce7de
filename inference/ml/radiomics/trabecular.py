"""Mean trabecular HU of a proximal-femur VOI: the one number the baseline model reads.

The VOI holds cortex and medulla; density screening reads the trabecular (cancellous) bone inside. We take
the voxels deeper than ``cortex_mm`` below the VOI surface, measured in millimetres on the CT's own
spacing, so the figure does not depend on the slice thickness.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

# Depth below the VOI surface treated as cortex. The femoral-neck cortex is about 1-3 mm thick
# (Mayhew et al., Lancet 2005, 366:129); at 3 mm the inner region is trabecular bone at LDCT resolution.
CORTEX_DEPTH_MM = 3.0


def mean_trabecular_hu(
    image: sitk.Image, mask: sitk.Image, *, label: int, cortex_mm: float = CORTEX_DEPTH_MM
) -> float:
    """Mean HU of the VOI voxels deeper than ``cortex_mm`` below its surface.

    Raises:
        ValueError: the mask has no voxel of ``label``, or none lies deeper than ``cortex_mm``.
    """
    if cortex_mm < 0:
        raise ValueError(f"cortex_mm must be >= 0, got {cortex_mm}")
    if image.GetSize() != mask.GetSize():
        raise ValueError(f"mask size {mask.GetSize()} differs from image size {image.GetSize()}")
    voi = sitk.GetArrayViewFromImage(mask) == label
    if not voi.any():
        raise ValueError(f"mask has no voxel of label {label}; nothing to measure")
    box = _bounding_box(voi)
    depth = _depth_below_surface_mm(voi[box], spacing_zyx=image.GetSpacing()[::-1])
    inner = depth > cortex_mm
    if not inner.any():
        raise ValueError(f"no voxel of label {label} lies deeper than {cortex_mm} mm below the VOI surface")
    hu = sitk.GetArrayViewFromImage(image)[box]
    return float(np.mean(hu[inner], dtype=np.float64))


def _bounding_box(voi: np.ndarray, pad: int = 1) -> tuple[slice, ...]:
    box = []
    for axis in range(voi.ndim):
        others = tuple(a for a in range(voi.ndim) if a != axis)
        present = np.flatnonzero(voi.any(axis=others))
        box.append(slice(max(present[0] - pad, 0), present[-1] + pad + 1))
    return tuple(box)


def _depth_below_surface_mm(voi: np.ndarray, *, spacing_zyx: tuple[float, ...]) -> np.ndarray:
    """Euclidean distance (mm) from each VOI voxel to the nearest voxel outside the VOI; 0 outside."""
    from scipy import ndimage

    padded = np.pad(voi, 1)  # so that the volume border counts as outside
    depth = ndimage.distance_transform_edt(padded, sampling=spacing_zyx)
    return depth[1:-1, 1:-1, 1:-1]
