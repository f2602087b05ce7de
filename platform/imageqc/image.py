"""Image-level QC: what can be said of a CT before any model has looked at it.

Run on import (the result is stored with the case) and again in screening, where the side-level checks of
the model's mask (mask.py) join it. Each finding names its side ("left", "right") or the whole image.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import SimpleITK as sitk

from .femur import MIN_FEMUR_HEIGHT_MM, FemurColumn, femur_columns
from .flags import FEMUR_CUT, IMAGE, METAL, NO_FEMUR, SIDES, THICK_SLICES, QCFlag
from .metal import METAL_HU, MetalObject, metal_objects
from .volume import Volume, lps_volume

# The paper reconstructs at 1.25 mm (method.md); routine abdominal CT is often 2-3 mm. Radiomics texture
# and the outline of a 45 mm femoral head degrade with thicker slices. Overridden by the setting
# QC_MAX_SLICE_THICKNESS_MM.
DEFAULT_MAX_SLICE_THICKNESS_MM = 3.0
# Metal this far or further from the body's midline belongs to a side (pedicle screws lie closer in).
METAL_MIN_OFFSET_MM = 30.0
# Metal within this distance of a femur-like section's centre is "in or next to" that femur: a femoral
# section's radius is up to about 35 mm, plus 15 mm of surrounding soft tissue (a plate on the shaft, a
# cup in the acetabulum).
METAL_NEAR_FEMUR_MM = 50.0


@dataclass
class ImageQC:
    flags: list[QCFlag]
    columns: dict[str, FemurColumn]
    metal: list[MetalObject]
    volume: Volume = field(repr=False)
    slice_thickness_mm: float = 0.0

    def side_flags(self, side: str) -> list[QCFlag]:
        return [flag for flag in self.flags if flag.concerns(side)]

    def as_dict(self) -> dict:
        return {
            "flags": [flag.as_dict() for flag in self.flags],
            "slice_thickness_mm": self.slice_thickness_mm,
            "femur_found": {side: column.found for side, column in self.columns.items()},
            "metal_cm3": [round(m.volume_cm3, 2) for m in self.metal],
        }


def image_qc(
    image: sitk.Image,
    *,
    slice_thickness_mm: float | None = None,
    max_slice_thickness_mm: float = DEFAULT_MAX_SLICE_THICKNESS_MM,
) -> ImageQC:
    """The image-level findings of one CT (HU). `slice_thickness_mm` is the reconstructed thickness when
    the source states it (DICOM SliceThickness); otherwise the slice spacing stands in for it."""
    volume = lps_volume(image)
    thickness = float(slice_thickness_mm or volume.spacing[2])
    columns = femur_columns(volume)
    metal = metal_objects(volume)
    flags = slice_flags(thickness, max_slice_thickness_mm)
    for side in SIDES:
        flags += femur_flags(columns[side], volume) + metal_flags(side, metal, columns[side], volume)
    return ImageQC(flags=flags, columns=columns, metal=metal, volume=volume, slice_thickness_mm=thickness)


def slice_flags(thickness_mm: float, limit_mm: float) -> list[QCFlag]:
    if thickness_mm <= limit_mm + 1e-6:
        return []
    return [
        QCFlag(
            THICK_SLICES, IMAGE, f"slices {thickness_mm:g} mm thick; the study allows at most {limit_mm:g} mm"
        )
    ]


def femur_flags(column: FemurColumn, volume: Volume) -> list[QCFlag]:
    if not column.found:
        return [
            QCFlag(
                NO_FEMUR,
                column.side,
                f"no femur in the field of view: no {column.side} femur-like bone "
                f"section over {MIN_FEMUR_HEIGHT_MM:g} mm of height",
            )
        ]
    # A section may be missed on a slice or two (a partial-volume cortex), as inside the column.
    if column.slices[-1] >= volume.array.shape[0] - 3:
        return [
            QCFlag(
                FEMUR_CUT,
                column.side,
                f"{column.side} femur cut by the top of the scan: femoral bone "
                "reaches its highest slice, so the femoral head is not wholly in view",
            )
        ]
    if column.touches_in_plane_edge:
        return [
            QCFlag(
                FEMUR_CUT, column.side, f"{column.side} femur cut by the edge of the field of view (in-plane)"
            )
        ]
    return []


def metal_flags(side: str, metal: list[MetalObject], column: FemurColumn, volume: Volume) -> list[QCFlag]:
    """One flag per side when metal lies in or next to that femur (or on that side, when no femur was found)."""
    midline_mm = volume.midline_x * volume.spacing[0]
    sign = 1.0 if side == "left" else -1.0  # the patient's left is +x in LPS
    near = [
        m
        for m in metal
        if sign * (m.centre_mm[0] - midline_mm) >= METAL_MIN_OFFSET_MM
        and (not column.found or _distance_to_femur(m, column, volume) <= METAL_NEAR_FEMUR_MM)
    ]
    if not near:
        return []
    total = sum(m.volume_cm3 for m in near)
    streaks = max(m.streak_fraction for m in near)
    where = "in or next to the" if column.found else "on the side of the"
    return [
        QCFlag(
            METAL,
            side,
            f"metal {where} {side} femur: {total:.1f} cm3 above {METAL_HU:g} HU "
            f"(peak {max(m.peak_hu for m in near):.0f} HU), streak artefacts in {100 * streaks:.0f}% of "
            "the tissue around it",
        )
    ]


def _distance_to_femur(metal: MetalObject, column: FemurColumn, volume: Volume) -> float:
    scale = np.array(volume.spacing[::-1])
    points = metal.voxels[:: max(1, len(metal.voxels) // 2000)] * scale  # (z, y, x) mm
    centres = np.array([(z, y, x) for x, y, z in column.centres_mm])
    gaps = np.linalg.norm(points[:, None, :] - centres[None, :, :], axis=2)
    return float(gaps.min())
