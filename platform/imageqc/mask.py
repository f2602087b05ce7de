"""Plausibility of a model's own proximal-femur mask, per side (issue 15: "honest output").

A side whose mask fails a check is not assessable: its volume, radiomics and class would describe
something other than a whole proximal femur. The bounds are deliberately wide: they catch a model that
found nothing, fragments or a cut femur, not a slightly different outline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .flags import (
    FEMUR_CUT,
    LOW_CONFIDENCE,
    MASK_FRAGMENTED,
    MASK_NO_HEAD_NECK,
    MASK_VOLUME,
    SIDE_LABELS,
    QCFlag,
)
from .volume import Volume

# A proximal-femur VOI (femoral head to the lesser trochanter, the paper's VOI) of an adult holds roughly
# 60-250 cm3 (issue 15's real scan: about 60 and 100 cm3; the phantom's: 90-200 cm3). 20 and 400 cm3 are
# far outside that on purpose, and are the warning bounds the viewer uses too.
MASK_VOLUME_CM3 = (20.0, 400.0)
# One compact component: the largest holds at least this share of the side's voxels...
MIN_LARGEST_COMPONENT_SHARE = 0.9
# ...and the mask spans no more than this in any direction (a proximal femur VOI is about 60-130 mm tall
# and 90-120 mm wide from head to greater trochanter).
MAX_EXTENT_MM = 220.0
# Head and neck: the VOI's top (the femoral head) lies medial of its bottom (the shaft at the lesser
# trochanter) by the femoral offset, about 35-50 mm in adults; 10 mm asks only for a head that is there.
# The top and bottom are the highest and lowest SLAB_MM of the mask.
MIN_HEAD_MEDIAL_SHIFT_MM = 10.0
MIN_HEIGHT_MM = 40.0
SLAB_MM = 15.0
# Below this mean foreground probability over the mask the model is guessing (a confident femur reads
# above 0.9 almost everywhere but at its rim).
MIN_MEAN_PROBABILITY = 0.7


@dataclass(frozen=True)
class MaskMeasures:
    volume_cm3: float
    largest_share: float
    extent_mm: tuple[float, float, float]  # x, y, z
    head_medial_shift_mm: float | None
    faces: tuple[str, ...]  # which faces of the scan the mask touches


def mask_measures(labels: Volume, side: str) -> MaskMeasures:
    """What the checks read from one side of a label volume (LPS, z = 0 inferior)."""
    femur = labels.array == SIDE_LABELS[side]
    z, y, x = np.nonzero(femur)
    if z.size == 0:
        return MaskMeasures(0.0, 0.0, (0.0, 0.0, 0.0), None, ())
    box = femur[
        z.min() : z.max() + 1, y.min() : y.max() + 1, x.min() : x.max() + 1
    ]  # components within its box
    components, _ = ndimage.label(box, structure=np.ones((3, 3, 3)))
    largest = np.bincount(components.ravel())[1:].max() / z.size
    sx, sy, sz = labels.spacing
    extent = ((x.max() - x.min() + 1) * sx, (y.max() - y.min() + 1) * sy, (z.max() - z.min() + 1) * sz)
    return MaskMeasures(
        z.size * labels.voxel_mm3 / 1000.0,
        float(largest),
        extent,
        _head_medial_shift(x * sx, z * sz, side),
        _faces(z, y, x, labels.array.shape),
    )


def _head_medial_shift(x_mm: np.ndarray, z_mm: np.ndarray, side: str) -> float | None:
    """How far the top slab's centre lies medial of the bottom slab's (None when the mask is too short)."""
    if z_mm.max() - z_mm.min() < MIN_HEIGHT_MM:
        return None
    top, bottom = x_mm[z_mm >= z_mm.max() - SLAB_MM].mean(), x_mm[z_mm <= z_mm.min() + SLAB_MM].mean()
    medial = -1.0 if side == "left" else 1.0  # the left femur lies at +x, so its medial direction is -x
    return float(medial * (top - bottom))


def _faces(z, y, x, shape) -> tuple[str, ...]:
    touched = {
        "bottom": z.min() == 0,
        "top": z.max() == shape[0] - 1,
        "edge of the field of view": bool(
            y.min() == 0 or x.min() == 0 or y.max() == shape[1] - 1 or x.max() == shape[2] - 1
        ),
    }
    return tuple(face for face, hit in touched.items() if hit)


def mask_flags(measures: MaskMeasures, side: str, *, mean_probability: float | None = None) -> list[QCFlag]:
    """The reasons one side's mask is implausible; none when it passes every check."""
    low, high = MASK_VOLUME_CM3
    if measures.volume_cm3 < low:
        # Too little to judge its shape; whether it touches the scan's edge still says why, if it does.
        found = (
            f"no {side} femur"
            if measures.volume_cm3 == 0
            else f"only {measures.volume_cm3:.1f} cm3 of {side} femur"
        )
        return _face_flags(measures, side) + [
            QCFlag(MASK_VOLUME, side, f"the model found {found}; a proximal femur holds {low:g}-{high:g} cm3")
        ]
    flags = _face_flags(measures, side)
    if measures.volume_cm3 > high:
        flags.append(
            QCFlag(
                MASK_VOLUME,
                side,
                f"the {side} mask holds {measures.volume_cm3:.0f} cm3, more than "
                f"the {high:g} cm3 a proximal femur holds",
            )
        )
    if measures.largest_share < MIN_LARGEST_COMPONENT_SHARE or max(measures.extent_mm) > MAX_EXTENT_MM:
        flags.append(
            QCFlag(
                MASK_FRAGMENTED,
                side,
                f"the {side} mask is not one compact piece: its largest part "
                f"holds {100 * measures.largest_share:.0f}% of it, and it spans "
                f"{max(measures.extent_mm):.0f} mm (at most {MAX_EXTENT_MM:g})",
            )
        )
    flags += _head_neck_flags(measures, side)
    if mean_probability is not None and mean_probability < MIN_MEAN_PROBABILITY:
        flags.append(
            QCFlag(
                LOW_CONFIDENCE,
                side,
                f"the model is unsure of the {side} femur: mean probability "
                f"{mean_probability:.2f} over its mask (below {MIN_MEAN_PROBABILITY:g})",
            )
        )
    return flags


def _head_neck_flags(measures: MaskMeasures, side: str) -> list[QCFlag]:
    shift = measures.head_medial_shift_mm
    if shift is None:
        return [
            QCFlag(
                MASK_NO_HEAD_NECK,
                side,
                f"no femoral head and neck in the {side} mask: it is only "
                f"{measures.extent_mm[2]:.0f} mm tall (a proximal femur at least {MIN_HEIGHT_MM:g} mm)",
            )
        ]
    if shift < MIN_HEAD_MEDIAL_SHIFT_MM:
        return [
            QCFlag(
                MASK_NO_HEAD_NECK,
                side,
                f"no femoral head and neck in the {side} mask: its top lies "
                f"{shift:.0f} mm medial of its bottom (a femoral head at least {MIN_HEAD_MEDIAL_SHIFT_MM:g} mm)",
            )
        ]
    return []


def _face_flags(measures: MaskMeasures, side: str) -> list[QCFlag]:
    if not measures.faces:
        return []
    return [
        QCFlag(
            FEMUR_CUT,
            side,
            f"{side} femur cut by the scan's {' and '.join(measures.faces)}: the mask "
            "reaches it, so the VOI does not end inside the scan",
        )
    ]
