"""A CT as the checks read it: a (z, y, x) HU array in LPS order, its spacing, and the body's midline.

In LPS, x grows towards the patient's left, y towards the back and z towards the head, so array index 0
along z is the scan's inferior end. Volumes are reoriented to the nearest LPS axes first, so a scan stored
in any axis order or direction is read the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import SimpleITK as sitk

# Soft tissue and bone, not air or lung: what outlines the patient (the table, at -1000 to -200 HU for
# carbon fibre and foam, mostly stays out).
BODY_HU = -300.0


@dataclass
class Volume:
    array: np.ndarray  # (z, y, x), HU or labels
    spacing: tuple[float, float, float]  # (x, y, z) mm

    @property
    def voxel_mm3(self) -> float:
        return float(np.prod(self.spacing))

    @cached_property
    def midline_x(self) -> float:
        """The body's left-right centre in x voxels: the median over slices of each slice's body centroid."""
        body = self.array > BODY_HU
        counts = body.sum(axis=(1, 2))
        xs = (body.sum(axis=1) * np.arange(self.array.shape[2])).sum(axis=1)
        filled = counts > 0
        if not filled.any():
            return (self.array.shape[2] - 1) / 2
        return float(np.median(xs[filled] / counts[filled]))


def lps_volume(image: sitk.Image) -> Volume:
    """The image reoriented to LPS axes (a permutation and flips, no resampling), as a Volume."""
    if image.GetDimension() != 3:
        raise ValueError(f"QC needs a 3-D image, got {image.GetDimension()}-D")
    oriented = sitk.DICOMOrient(image, "LPS")
    sx, sy, sz = (float(s) for s in oriented.GetSpacing())
    return Volume(sitk.GetArrayFromImage(oriented), (sx, sy, sz))
