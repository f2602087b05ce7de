"""The voxel grid of a CT and of its VOIs, declared once.

Conventions (SimpleITK's, used throughout the platform):
- Geometry is in the patient's LPS frame: +x towards the patient's left, +y posterior, +z superior. Every
  stored CT is reoriented to it on import (``CANONICAL_ORIENTATION``), so a label's side is its place.
- Sizes, spacings and origins are given in (x, y, z) order, in voxels and millimetres, as SimpleITK and
  ``Case.size`` / ``Case.spacing`` give them.
- Arrays are in numpy order [z, y, x] (``sitk.GetArrayFromImage``), so the spacing of an array's axes is
  the spacing reversed (``spacing_zyx``).
- A VOI lies on its CT's grid exactly: same size, spacing, origin and direction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

CANONICAL_ORIENTATION = "LPS"
MM3_PER_CM3 = 1000.0


def spacing_zyx(spacing_xyz: Sequence[float]) -> tuple[float, float, float]:
    """The spacing of an array's axes [z, y, x] from a spacing in (x, y, z); ValueError unless three
    positive finite millimetre values."""
    if len(spacing_xyz) != 3 or any(not np.isfinite(s) or s <= 0 for s in spacing_xyz):
        raise ValueError(f"Spacing must be three positive millimetre values (x, y, z), got {spacing_xyz!r}.")
    x, y, z = (float(s) for s in spacing_xyz)
    return (z, y, x)


@dataclass(frozen=True)
class Grid:
    """The voxel grid of a case: size and spacing in (x, y, z), origin and direction in LPS."""

    size_xyz: tuple[int, int, int]
    spacing_xyz: tuple[float, float, float]
    origin_xyz: tuple[float, float, float]
    direction: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.size_xyz) != 3 or any(int(n) <= 0 for n in self.size_xyz):
            raise ValueError(f"A grid size must be three positive integers, got {self.size_xyz!r}.")
        if len(self.spacing_xyz) != 3 or any(float(s) <= 0 for s in self.spacing_xyz):
            raise ValueError(f"A grid spacing must be three positive numbers, got {self.spacing_xyz!r}.")
        if len(self.origin_xyz) != 3 or len(self.direction) != 9:
            raise ValueError("A grid needs a 3-value origin and a 9-value direction matrix.")

    @classmethod
    def of(cls, *, size, spacing, origin, direction) -> Grid:
        nx, ny, nz = (int(n) for n in size)
        sx, sy, sz = (float(s) for s in spacing)
        ox, oy, oz = (float(o) for o in origin)
        return cls(
            size_xyz=(nx, ny, nz),
            spacing_xyz=(sx, sy, sz),
            origin_xyz=(ox, oy, oz),
            direction=tuple(float(d) for d in direction),
        )

    @classmethod
    def of_image(cls, image: Any) -> Grid:
        """The grid of a SimpleITK image (anything with its four geometry getters)."""
        return cls.of(
            size=image.GetSize(),
            spacing=image.GetSpacing(),
            origin=image.GetOrigin(),
            direction=image.GetDirection(),
        )

    @property
    def voxel_count(self) -> int:
        return int(np.prod(self.size_xyz))

    @property
    def shape_zyx(self) -> tuple[int, int, int]:
        return (self.size_xyz[2], self.size_xyz[1], self.size_xyz[0])

    @property
    def spacing_zyx(self) -> tuple[float, float, float]:
        return spacing_zyx(self.spacing_xyz)

    @property
    def voxel_cm3(self) -> float:
        return float(np.prod(self.spacing_xyz)) / MM3_PER_CM3

    def describe(self) -> str:
        return "x".join(str(n) for n in self.size_xyz)
