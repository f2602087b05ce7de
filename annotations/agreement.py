"""How well two proximal-femur VOIs agree: Dice, HD95, ASSD and volume difference.

Plain numpy/scipy, no Django: the agreement job and the inference evaluation both call it with two label
arrays on the same grid. Arrays are in SimpleITK's numpy order [z, y, x]; spacing is given in SimpleITK's
order (x, y, z) in millimetres, as stored on a Case, and reversed here.

Conventions (the ones MedPy and most segmentation papers use):
- Dice of a label = 2|A and B| / (|A| + |B|); "overall" treats every non-zero label as foreground.
  Dice is None when neither VOI has the label (nothing to compare), 0.0 when only one has it.
- A surface is the set of foreground voxels with a background face-neighbour. Surface distances are
  measured between voxel centres in millimetres, from every surface voxel of one VOI to the nearest
  surface voxel of the other, in both directions, pooled. HD95 is the 95th percentile of the pooled
  distances, ASSD their mean. Both are None when either surface is empty (the distance is unbounded).
- Volume difference = volume of the first VOI - volume of the second, in cm3 (the paper's VD is
  manual - automatic; for two readers, first reader - second reader).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

# The label values of a proximal-femur VOI (see the shared contract): 1 left, 2 right.
FEMUR_LABELS: tuple[int, ...] = (1, 2)
HD_PERCENTILE = 95.0
MM3_PER_CM3 = 1000.0
# Face connectivity in 3-D: a voxel is on the surface when one of its six face neighbours is background.
_FACE_NEIGHBOURS = ndimage.generate_binary_structure(3, 1)


@dataclass(frozen=True)
class LabelAgreement:
    """The agreement of one label (or of the whole foreground) between two VOIs."""

    dice: float | None
    hd95_mm: float | None
    assd_mm: float | None
    first_cm3: float
    second_cm3: float

    @property
    def volume_difference_cm3(self) -> float:
        return self.first_cm3 - self.second_cm3

    def as_dict(self) -> dict[str, float | None]:
        return {
            "dice": self.dice,
            "hd95_mm": self.hd95_mm,
            "assd_mm": self.assd_mm,
            "first_cm3": self.first_cm3,
            "second_cm3": self.second_cm3,
            "volume_difference_cm3": self.volume_difference_cm3,
        }


@dataclass(frozen=True)
class VOIAgreement:
    """Per-label agreement and the agreement of the whole foreground."""

    per_label: dict[int, LabelAgreement]
    overall: LabelAgreement

    def as_dict(self) -> dict[str, object]:
        return {
            "per_label": {str(label): value.as_dict() for label, value in self.per_label.items()},
            "overall": self.overall.as_dict(),
        }


def voi_agreement(
    *,
    first: np.ndarray,
    second: np.ndarray,
    spacing_xyz: Sequence[float],
    labels: Sequence[int] = FEMUR_LABELS,
) -> VOIAgreement:
    """Compare two label volumes on the same grid.

    Args:
        first: integer label array [z, y, x] (e.g. the first reader's VOI).
        second: integer label array of the same shape.
        spacing_xyz: voxel spacing in mm, (x, y, z) as SimpleITK and Case.spacing give it.
        labels: the labels to compare one by one.

    Example:
        >>> a = np.zeros((4, 4, 4), np.uint8); a[1:3, 1:3, 1:3] = 1
        >>> voi_agreement(first=a, second=a, spacing_xyz=(1, 1, 1)).overall.dice
        1.0
    """
    spacing_zyx = _validated_spacing_zyx(first=first, second=second, spacing_xyz=spacing_xyz)
    per_label = {
        int(label): mask_agreement(first=first == label, second=second == label, spacing_zyx=spacing_zyx)
        for label in labels
    }
    overall = mask_agreement(first=first > 0, second=second > 0, spacing_zyx=spacing_zyx)
    return VOIAgreement(per_label=per_label, overall=overall)


def mask_agreement(*, first: np.ndarray, second: np.ndarray, spacing_zyx: Sequence[float]) -> LabelAgreement:
    """Compare two boolean masks [z, y, x] with spacing in mm in the same axis order."""
    voxel_cm3 = float(np.prod(spacing_zyx)) / MM3_PER_CM3
    first_count, second_count = int(np.count_nonzero(first)), int(np.count_nonzero(second))
    hd95_mm, assd_mm = _surface_distance_summary(first=first, second=second, spacing_zyx=spacing_zyx)
    return LabelAgreement(
        dice=_dice(first=first, second=second, first_count=first_count, second_count=second_count),
        hd95_mm=hd95_mm,
        assd_mm=assd_mm,
        first_cm3=first_count * voxel_cm3,
        second_cm3=second_count * voxel_cm3,
    )


def _validated_spacing_zyx(*, first: np.ndarray, second: np.ndarray, spacing_xyz: Sequence[float]) -> tuple:
    if first.shape != second.shape:
        raise ValueError(f"The two VOIs have different shapes: {first.shape} and {second.shape}.")
    if first.ndim != 3:
        raise ValueError(f"A VOI must be a 3-D array [z, y, x], got {first.ndim} dimensions.")
    if len(spacing_xyz) != 3 or any(not np.isfinite(s) or s <= 0 for s in spacing_xyz):
        raise ValueError(f"Spacing must be three positive millimetre values (x, y, z), got {spacing_xyz!r}.")
    return tuple(float(s) for s in reversed(spacing_xyz))


def _dice(*, first: np.ndarray, second: np.ndarray, first_count: int, second_count: int) -> float | None:
    if first_count + second_count == 0:
        return None
    overlap = int(np.count_nonzero(first & second))
    return 2.0 * overlap / (first_count + second_count)


def _surface_distance_summary(
    *, first: np.ndarray, second: np.ndarray, spacing_zyx: Sequence[float]
) -> tuple[float | None, float | None]:
    """HD95 and ASSD in mm, or (None, None) when either mask is empty."""
    if not first.any() or not second.any():
        return None, None
    # Distance transforms over a whole CT (tens of millions of voxels) are slow and memory-hungry; the
    # femur occupies a small box, so work in the box around both masks, padded so the surface is closed.
    first_box, second_box = _crop_to_union(first=first, second=second)
    first_surface, second_surface = _surface(first_box), _surface(second_box)
    first_to_second = _distance_to(second_surface, spacing_zyx=spacing_zyx)[first_surface]
    second_to_first = _distance_to(first_surface, spacing_zyx=spacing_zyx)[second_surface]
    pooled = np.concatenate([first_to_second, second_to_first])
    return float(np.percentile(pooled, HD_PERCENTILE)), float(pooled.mean())


def _crop_to_union(*, first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    union = first | second
    corners = [np.flatnonzero(union.any(axis=tuple(a for a in range(3) if a != axis))) for axis in range(3)]
    box = tuple(slice(int(c[0]), int(c[-1]) + 1) for c in corners)
    return np.pad(first[box], 1), np.pad(second[box], 1)


def _surface(mask: np.ndarray) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask, structure=_FACE_NEIGHBOURS)


def _distance_to(surface: np.ndarray, *, spacing_zyx: Sequence[float]) -> np.ndarray:
    """Millimetre distance from every voxel to the nearest voxel of the surface."""
    return ndimage.distance_transform_edt(~surface, sampling=spacing_zyx)
