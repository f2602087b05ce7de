"""Per-side QC of a screened CT: the image's findings and the model's mask, joined into one verdict.

A side is assessable when no finding concerns it; otherwise it is "not assessable (reasons)" and gets no
class. The image-level "no femur" finding gives way to a mask that passes every check: the image check is
rough (femur-like bone sections), the mask is the model's outline, so a plausible femur is believed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import SimpleITK as sitk

from .flags import MASK_VOLUME, METAL, NO_FEMUR, SIDE_LABELS, SIDES, QCFlag
from .image import ImageQC
from .mask import MaskMeasures, mask_flags, mask_measures
from .metal import METAL_HU, MetalObject
from .volume import lps_volume

# Metal within this distance of the mask's bounding box is next to the femur (a cup, a plate, a screw head).
METAL_NEAR_MASK_MM = 20.0


@dataclass
class SideQC:
    side: str
    flags: list[QCFlag]
    measures: MaskMeasures | None = None

    @property
    def assessable(self) -> bool:
        return not self.flags

    @property
    def reasons(self) -> list[str]:
        return [flag.reason for flag in self.flags]

    def as_dict(self) -> dict:
        volume = None if self.measures is None else round(self.measures.volume_cm3, 2)
        return {
            "assessable": self.assessable,
            "qc": self.reasons,
            "flags": [f.as_dict() for f in self.flags],
            "volume_cm3": volume,
        }


def sides_qc(
    image_qc: ImageQC, labels: sitk.Image, *, sides=SIDES, mean_probability: dict[str, float] | None = None
) -> dict[str, SideQC]:
    """Every side's verdict from the image findings and a label image on the CT's grid (1 left, 2 right)."""
    mask = lps_volume(labels)
    if mask.array.shape != image_qc.volume.array.shape:
        raise ValueError(
            f"the mask's grid {mask.array.shape[::-1]} is not the CT's {image_qc.volume.array.shape[::-1]}"
        )
    results = {}
    for side in sides:
        measures = mask_measures(mask, side)
        from_mask = mask_flags(measures, side, mean_probability=(mean_probability or {}).get(side))
        from_image = _image_flags_kept(image_qc.side_flags(side), from_mask)
        metal = (
            []
            if any(f.code == METAL for f in from_image)
            else _metal_near_mask(image_qc.metal, mask.array, side, mask.spacing)
        )
        results[side] = SideQC(side, _one_per_check(from_mask + from_image + metal), measures)
    return results


def _image_flags_kept(image_flags: list[QCFlag], mask_flags_: list[QCFlag]) -> list[QCFlag]:
    implausible_volume = any(f.code == MASK_VOLUME for f in mask_flags_)
    return [f for f in image_flags if f.code != NO_FEMUR or implausible_volume or mask_flags_]


def _metal_near_mask(metal: list[MetalObject], labels: np.ndarray, side: str, spacing) -> list[QCFlag]:
    where = np.argwhere(labels == SIDE_LABELS[side])
    if not len(where) or not metal:
        return []
    margin = np.array([METAL_NEAR_MASK_MM / s for s in spacing[::-1]])
    low, high = where.min(axis=0) - margin, where.max(axis=0) + margin
    near = [m for m in metal if ((m.voxels >= low) & (m.voxels <= high)).all(axis=1).any()]
    if not near:
        return []
    return [
        QCFlag(
            METAL,
            side,
            f"metal next to the {side} femur's mask: {sum(m.volume_cm3 for m in near):.1f} cm3 "
            f"above {METAL_HU:g} HU within {METAL_NEAR_MASK_MM:g} mm of it",
        )
    ]


def _one_per_check(flags: list[QCFlag]) -> list[QCFlag]:
    """One finding per check and side; the mask's (measured on the femur itself) wins over the image's."""
    kept: dict[tuple[str, str], QCFlag] = {}
    for flag in flags:  # the mask's come first
        kept.setdefault((flag.code, flag.side), flag)
    return list(kept.values())
