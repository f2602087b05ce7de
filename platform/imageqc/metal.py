"""Metal in a CT: hip replacements, nails, plates and screws, found by CT number and shape.

Threshold: 2,500 HU. Cortical bone reaches about 1,500-2,000 HU (Schneider, Bortfeld and Schlegel, Phys Med
Biol 2000;45:459-478, cortical bone tissues up to ~1,900 HU at 1.92 g/cm3; issue 15's randomised cortex
spans 500-1,800 HU), and metal implants read above 3,000 HU, or at the 3,071 HU ceiling where a standard
12-bit reconstruction saturates them; so 2,500 HU lies between dense bone and every metal, saturated or
on an extended scale. Shape: a connected region of at least METAL_MIN_VOLUME_MM3 (one bright voxel is
noise or a calcification, a 3.5 mm cortical screw is about 0.3 cm3 over 30 mm). Streaks (dark and bright
bands radiating from the metal, from photon starvation and beam hardening) are measured and reported as
supporting evidence; they are not required, as metal-artefact-reduction reconstructions remove most of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .volume import BODY_HU, Volume

METAL_HU = 2500.0
METAL_MIN_VOLUME_MM3 = 50.0
# Streak evidence: body voxels within this in-plane reach of the metal reading far darker than fat or
# brighter than tissue (bone excluded by its own range only roughly: it is evidence, not a gate).
STREAK_REACH_MM = 60.0
DARK_STREAK_HU = -250.0
BRIGHT_STREAK_HU = 1000.0


@dataclass(frozen=True)
class MetalObject:
    volume_cm3: float
    peak_hu: float
    centre_mm: tuple[float, float, float]  # (x, y, z) from index 0, in mm
    voxels: np.ndarray  # (n, 3) z, y, x indices
    streak_fraction: float  # share of the surrounding body voxels reading as streaks


def metal_objects(volume: Volume) -> list[MetalObject]:
    """Every connected metal region of at least METAL_MIN_VOLUME_MM3, largest first."""
    z, y, x = np.nonzero(volume.array >= METAL_HU)
    if z.size == 0:
        return []
    start = np.array([z.min(), y.min(), x.min()])
    box = tuple(slice(a, b + 1) for a, b in zip(start, (z.max(), y.max(), x.max()), strict=True))
    components, _ = ndimage.label(volume.array[box] >= METAL_HU, structure=np.ones((3, 3, 3)))
    sizes = np.bincount(components.ravel()) * volume.voxel_mm3
    found = []
    for index, part in enumerate(ndimage.find_objects(components), start=1):
        if part is None or sizes[index] < METAL_MIN_VOLUME_MM3:
            continue
        offset = start + [s.start for s in part]
        voxels = np.argwhere(components[part] == index) + offset
        found.append(_metal_object(volume, voxels, sizes[index]))
    return sorted(found, key=lambda m: -m.volume_cm3)


def _metal_object(volume: Volume, voxels: np.ndarray, size_mm3: float) -> MetalObject:
    z, y, x = voxels.mean(axis=0) * np.array(volume.spacing[::-1])
    return MetalObject(
        volume_cm3=float(size_mm3 / 1000),
        peak_hu=float(volume.array[tuple(voxels.T)].max()),
        centre_mm=(float(x), float(y), float(z)),
        voxels=voxels,
        streak_fraction=_streak_fraction(volume, voxels),
    )


def _streak_fraction(volume: Volume, voxels: np.ndarray) -> float:
    """Share of body voxels around the metal (its slices, within STREAK_REACH_MM in-plane) that read as streaks."""
    z0, z1 = voxels[:, 0].min(), voxels[:, 0].max() + 1
    cy, cx = voxels[:, 1].mean(), voxels[:, 2].mean()
    ry, rx = (int(STREAK_REACH_MM / s) for s in volume.spacing[1::-1])
    y0, x0 = max(0, int(cy) - ry), max(0, int(cx) - rx)
    block = volume.array[z0:z1, y0 : int(cy) + ry + 1, x0 : int(cx) + rx + 1]
    # Inside the body outline (holes filled, so dark streaks within it count), metal itself left out.
    body = np.stack([ndimage.binary_fill_holes(plane > BODY_HU) for plane in block]) & (block < METAL_HU)
    streaks = body & ((block <= DARK_STREAK_HU) | (block >= BRIGHT_STREAK_HU))
    return float(streaks.sum() / max(body.sum(), 1))
