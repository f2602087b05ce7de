"""How well two proximal-femur VOIs agree, and the paper's Table 2 summary: the one metrics core.

The readers' agreement (annotations), the segmentation training's validation, each predicted mask against
its reference VOI (Table 2) and the dashboards all compute their numbers here, with one convention:

- The first VOI is the reference (the paper's "manual": a reference VOI, or the first reader), the second
  the one judged (the "automatic" mask, or the second reader). Both are integer label arrays [z, y, x] on
  the same grid (``voi.grid``), labels as in ``voi.labels``.
- Per side (label 1 left, 2 right), each side's voxels form the masks compared.
  Dice = 2|A and B| / (|A| + |B|). It is None when neither VOI has the side (nothing to compare: the side
  is left out of every summary), and 0.0 when only one has it (a missed or an invented femur).
- A surface is the set of foreground voxels with a background face-neighbour. Surface distances are
  measured between voxel centres in millimetres, from every surface voxel of one mask to the nearest
  surface voxel of the other, in both directions, pooled. HD95 is their 95th percentile, ASSD their mean.
  Both are None when either mask is empty (the distance is unbounded).
- Volume difference VD = volume of the first - volume of the second, in cm3 (the paper's manual -
  automatic).
- "overall" (the whole VOI, one number per case as Table 2 reports) pools the sides, so a voxel agrees
  only when both VOIs give it the same side: Dice = 2 sum|A_s and B_s| / sum(|A_s| + |B_s|); HD95 and
  ASSD are taken over the pooled surface distances of the sides present in both; VD is the difference of
  the total volumes (the sum of the sides' VDs). The overall Dice is None only when both VOIs are empty,
  and the overall HD95 / ASSD are None when any side is present in only one VOI.

The Table 2 summary (``table2_summary``) is Dice mean +/- SD (sample SD, n - 1) and VD median (IQR,
numpy's linear quartiles, R's type 7) over the cases given, leaving out undefined values (None / NaN).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage

from voi.grid import MM3_PER_CM3, spacing_zyx
from voi.labels import FEMUR_LABELS

HD_PERCENTILE = 95.0
# Face connectivity in 3-D: a voxel is on the surface when one of its six face neighbours is background.
_FACE_NEIGHBOURS = ndimage.generate_binary_structure(3, 1)


@dataclass(frozen=True)
class LabelAgreement:
    """The agreement of one side (or of the whole VOI) between a first and a second VOI."""

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
    """Per-side agreement and the agreement of the whole VOI ("overall")."""

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
    surface: bool = True,
) -> VOIAgreement:
    """Compare two label volumes on the same grid, per side and overall (see the module's convention).

    Args:
        first: integer label array [z, y, x], the reference (e.g. the reference VOI, the first reader).
        second: integer label array of the same shape (e.g. the predicted mask, the second reader).
        spacing_xyz: voxel spacing in mm, (x, y, z) as SimpleITK and Case.spacing give it.
        labels: the sides to compare.
        surface: False skips the surface distances (HD95 and ASSD are then None), for callers that
            report only Dice and VD and need them fast.

    Example:
        >>> a = np.zeros((4, 4, 4), np.uint8); a[1:3, 1:3, 1:3] = 1
        >>> voi_agreement(first=a, second=a, spacing_xyz=(1, 1, 1)).overall.dice
        1.0
    """
    if first.shape != second.shape:
        raise ValueError(f"The two VOIs have different shapes: {first.shape} and {second.shape}.")
    if first.ndim != 3:
        raise ValueError(f"A VOI must be a 3-D array [z, y, x], got {first.ndim} dimensions.")
    spacing = spacing_zyx(spacing_xyz)
    sides = {
        int(label): _SideComparison(first == label, second == label, spacing, surface) for label in labels
    }
    per_label = {label: side.agreement() for label, side in sides.items()}
    return VOIAgreement(per_label=per_label, overall=_overall(list(sides.values()), spacing, surface))


def mask_agreement(
    *, first: np.ndarray, second: np.ndarray, spacing_xyz: Sequence[float], surface: bool = True
) -> LabelAgreement:
    """Compare two boolean masks [z, y, x] (one side, or any single structure)."""
    return _SideComparison(
        first.astype(bool), second.astype(bool), spacing_zyx(spacing_xyz), surface
    ).agreement()


def dice(first: np.ndarray, second: np.ndarray) -> float | None:
    """Dice of two boolean masks: None when both are empty, 0.0 when only one is (the module's convention)."""
    first, second = first.astype(bool, copy=False), second.astype(bool, copy=False)
    total = int(np.count_nonzero(first)) + int(np.count_nonzero(second))
    return None if total == 0 else 2.0 * int(np.count_nonzero(first & second)) / total


class _SideComparison:
    """Voxel counts and surface distances of one side, computed once for the side and for the overall."""

    def __init__(
        self, first: np.ndarray, second: np.ndarray, spacing: tuple[float, float, float], surface: bool
    ):
        self.voxel_cm3 = float(np.prod(spacing)) / MM3_PER_CM3
        self.first_count, self.second_count = int(np.count_nonzero(first)), int(np.count_nonzero(second))
        self.overlap = int(np.count_nonzero(first & second))
        self.distances = _surface_distances(first, second, spacing) if surface else None

    @property
    def present(self) -> bool:
        return self.first_count + self.second_count > 0

    @property
    def in_one_only(self) -> bool:
        return (self.first_count == 0) != (self.second_count == 0)

    def agreement(self) -> LabelAgreement:
        hd95, assd = _distance_summary(self.distances)
        dice_value = 2.0 * self.overlap / (self.first_count + self.second_count) if self.present else None
        return LabelAgreement(
            dice_value, hd95, assd, self.first_count * self.voxel_cm3, self.second_count * self.voxel_cm3
        )


def _overall(sides: list[_SideComparison], spacing, surface: bool) -> LabelAgreement:
    voxel_cm3 = float(np.prod(spacing)) / MM3_PER_CM3
    first_count = sum(s.first_count for s in sides)
    second_count = sum(s.second_count for s in sides)
    total = first_count + second_count
    dice_value = 2.0 * sum(s.overlap for s in sides) / total if total else None
    hd95 = assd = None
    if surface and total and not any(s.in_one_only for s in sides):
        hd95, assd = _distance_summary(
            np.concatenate([s.distances for s in sides if s.distances is not None])
        )
    return LabelAgreement(dice_value, hd95, assd, first_count * voxel_cm3, second_count * voxel_cm3)


def _distance_summary(distances: np.ndarray | None) -> tuple[float | None, float | None]:
    if distances is None or distances.size == 0:
        return None, None
    return float(np.percentile(distances, HD_PERCENTILE)), float(distances.mean())


def _surface_distances(first: np.ndarray, second: np.ndarray, spacing) -> np.ndarray | None:
    """Pooled surface distances in mm (both directions), or None when either mask is empty."""
    if not first.any() or not second.any():
        return None
    # Distance transforms over a whole CT (tens of millions of voxels) are slow and memory-hungry; the
    # femur occupies a small box, so work in the box around both masks, padded so the surface is closed.
    first_box, second_box = _crop_to_union(first=first, second=second)
    first_surface, second_surface = _surface(first_box), _surface(second_box)
    first_to_second = _distance_to(second_surface, spacing=spacing)[first_surface]
    second_to_first = _distance_to(first_surface, spacing=spacing)[second_surface]
    return np.concatenate([first_to_second, second_to_first])


def _crop_to_union(*, first: np.ndarray, second: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    union = first | second
    corners = [np.flatnonzero(union.any(axis=tuple(a for a in range(3) if a != axis))) for axis in range(3)]
    box = tuple(slice(int(c[0]), int(c[-1]) + 1) for c in corners)
    return np.pad(first[box], 1), np.pad(second[box], 1)


def _surface(mask: np.ndarray) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask, structure=_FACE_NEIGHBOURS)


def _distance_to(surface: np.ndarray, *, spacing) -> np.ndarray:
    """Millimetre distance from every voxel to the nearest voxel of the surface."""
    return ndimage.distance_transform_edt(~surface, sampling=spacing)


# --- Table 2 ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SegmentationSummary:
    """Dice as mean +/- SD and volume difference (cm3) as median (IQR), as in the paper's Table 2."""

    n: int
    dice_mean: float | None
    dice_sd: float | None
    volume_difference_median: float | None
    volume_difference_q1: float | None
    volume_difference_q3: float | None

    def as_dict(self) -> dict:
        return asdict(self)


def table2_summary(
    *, dice: Sequence[float | None] | np.ndarray, volume_difference_cm3: Sequence[float | None] | np.ndarray
) -> SegmentationSummary:
    """Table 2's cell for a group of cases: undefined values (None, NaN) are left out; the SD needs two
    values and the quartiles one, else they are None. n counts the cases with a defined value."""
    dice_values = _defined(dice)
    volume_difference = _defined(volume_difference_cm3)
    q1 = median = q3 = None
    if volume_difference.size:
        q1, median, q3 = (float(v) for v in np.percentile(volume_difference, [25, 50, 75]))
    return SegmentationSummary(
        n=int(max(dice_values.size, volume_difference.size)),
        dice_mean=float(dice_values.mean()) if dice_values.size else None,
        dice_sd=float(dice_values.std(ddof=1)) if dice_values.size > 1 else None,
        volume_difference_median=median,
        volume_difference_q1=q1,
        volume_difference_q3=q3,
    )


def _defined(values) -> np.ndarray:
    array = np.array([np.nan if v is None else v for v in values], dtype=float)
    return array[np.isfinite(array)]
