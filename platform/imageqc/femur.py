"""Is there a femur on each side of a CT, and does the scan cut it? A rough check on the image alone.

Axial slices are searched for femur-like bone sections: a solid bone disc (cortex with marrow or trabecular
bone inside, holes filled) of a femoral head's or shaft's size, round rather than plate-like (iliac wings,
sacrum and ribs are plates or thin), brighter at its rim than in its core (a cortex; contrast-filled bowel
and kidneys are not), lying well lateral of the body's midline (vertebrae and the sacrum are central) but
inside the trunk's reach (arms lie further out). A side holds a femur when such sections stack over a
minimum height. The thresholds are wide on purpose: this check only has to tell a hip CT from one with no
hips in it; the model's own mask is checked separately (mask.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .metal import METAL_HU
from .volume import Volume

# Bone (cortex and most trabecular bone) against soft tissue; contrast-enhanced vessels reach it too,
# which the shape and rim tests below sort out.
BONE_HU = 200.0
# Femoral shaft diameters run about 25-35 mm, femoral heads 40-55 mm (the phantom's README: 41-53 mm);
# a section through head and greater trochanter, or an oblique neck, is longer.
SECTION_DIAMETER_MM = (16.0, 75.0)
# Plates (iliac wing, sacral ala) have elongations of 4 and more; a femoral neck cut obliquely about 2-3.
MAX_ELONGATION = 3.2
# Section centres lie 40-150 mm from the midline: femoral heads sit about 80-100 mm out in adults
# (phantom: 86-88 mm), shafts a little further; vertebral bodies and the sacrum within 30 mm.
LATERAL_OFFSET_MM = (40.0, 150.0)
# A cortex: the section's rim is brighter than its core by at least this much.
MIN_RIM_CONTRAST_HU = 60.0
RIM_MM = 3.0
# Sections must stack over this height (gaps of one missing slice allowed) to count as a femur.
MIN_FEMUR_HEIGHT_MM = 15.0
IN_PLANE_8 = np.zeros((3, 3, 3), bool)  # 8-connectivity within a slice, none across slices
IN_PLANE_8[1] = True
# In-plane work is done at about this pixel size (every n-th pixel): 8 pixels across a 16 mm section.
WORK_PIXEL_MM = 2.0


@dataclass(frozen=True)
class FemurColumn:
    """Where femur-like sections were found on one side (z indices, inferior = 0), or not."""

    side: str
    slices: tuple[int, ...]
    touches_in_plane_edge: bool
    centres_mm: tuple[
        tuple[float, float, float], ...
    ] = ()  # (x, y, z) of each section, voxel-mm from index 0

    @property
    def found(self) -> bool:
        return bool(self.slices)


def femur_columns(volume: Volume) -> dict[str, FemurColumn]:
    """The femur column of each side ("left" at +x, "right"), found from femur-like axial sections."""
    step = max(1, int(round(WORK_PIXEL_MM / max(volume.spacing[0], 1e-6))))
    sx, sy, sz = volume.spacing[0] * step, volume.spacing[1] * step, volume.spacing[2]
    midline_mm = volume.midline_x * volume.spacing[0]
    hu = np.ascontiguousarray(volume.array[:, ::step, ::step])
    hits: dict[str, list] = {"left": [], "right": []}
    for z, section in _femur_sections(hu, sx, sy, midline_mm):
        side = "left" if section[0] > midline_mm else "right"
        hits[side].append((z, *section))
    return {side: _column(side, found, sz, hu.shape[1:]) for side, found in hits.items()}


def _femur_sections(hu: np.ndarray, sx: float, sy: float, midline_mm: float) -> list[tuple[int, tuple]]:
    """(slice, (x mm, y mm, touches edge)) of each femur-like section. Bone is labelled slice by slice (an
    in-plane structure over the whole volume: one call), and only components big enough to be a section
    have their holes filled and their shape measured."""
    # Bone connects through corners (8-connectivity), so a thin cortical ring stays one ring; its holes
    # are background not reached edge-to-edge (4-connectivity) from outside, as in binary_fill_holes.
    components, count = ndimage.label(hu > BONE_HU, structure=IN_PLANE_8)
    found = []
    for index, box in enumerate(ndimage.find_objects(components), start=1):
        if (
            box is None
            or max((box[1].stop - box[1].start) * sy, (box[2].stop - box[2].start) * sx)
            < SECTION_DIAMETER_MM[0]
        ):
            continue
        plane_box = box[1:]
        region = ndimage.binary_fill_holes(components[box][0] == index)
        described = _describe(region, hu[box][0].astype(np.float32), sx, sy, plane_box, midline_mm)
        if described is not None and _femur_like(described):
            edge = (
                plane_box[0].start == 0
                or plane_box[1].start == 0
                or plane_box[0].stop == hu.shape[1]
                or plane_box[1].stop == hu.shape[2]
            )
            found.append((box[0].start, (described["x_mm"], described["y_mm"], edge)))
    return found


def _describe(
    region: np.ndarray, hu: np.ndarray, sx: float, sy: float, box, midline_mm: float
) -> dict | None:
    """Size, shape, place and rim contrast of one section; None as soon as one of them rules it out
    (the rim, which needs an erosion, is measured last and only for sections that pass the rest)."""
    diameter = 2.0 * np.sqrt(region.sum() * sx * sy / np.pi)
    if not SECTION_DIAMETER_MM[0] <= diameter <= SECTION_DIAMETER_MM[1]:
        return None
    ys, xs = np.nonzero(region)
    x_mm, y_mm = (box[1].start + xs.mean()) * sx, (box[0].start + ys.mean()) * sy
    if not LATERAL_OFFSET_MM[0] <= abs(x_mm - midline_mm) <= LATERAL_OFFSET_MM[1]:
        return None
    eigen = np.linalg.eigvalsh(np.cov(np.stack([xs * sx, ys * sy])))
    elongation = float(np.sqrt(eigen[1] / max(eigen[0], 1e-6)))
    if elongation > MAX_ELONGATION:
        return None
    core = ndimage.binary_erosion(region, iterations=max(1, int(round(RIM_MM / sx))))
    rim = region & ~core
    # A metal stem or nail fills the marrow of a femur that is still there: the core is read without it.
    core &= hu < METAL_HU
    core_hu = float(np.median(hu[core])) if core.any() else float(np.median(hu[region]))
    return {
        "diameter": diameter,
        "elongation": elongation,
        "rim_contrast": float(np.median(hu[rim])) - core_hu,
        "x_mm": x_mm,
        "y_mm": y_mm,
    }


def _femur_like(d: dict) -> bool:
    return d["rim_contrast"] >= MIN_RIM_CONTRAST_HU


def _column(side: str, hits: list, slice_mm: float, shape) -> FemurColumn:
    """The tallest run of slices holding a section (one missing slice bridged), if tall enough."""
    slices = sorted({h[0] for h in hits})
    runs: list[list[int]] = []
    run: list[int] = []
    for z in slices:
        if run and z - run[-1] > 2:
            runs.append(run)
            run = []
        run.append(z)
    if run:
        runs.append(run)
    tallest = max(runs, key=lambda r: r[-1] - r[0], default=[])
    if not tallest or (tallest[-1] - tallest[0] + 1) * slice_mm < MIN_FEMUR_HEIGHT_MM:
        return FemurColumn(side, (), False)
    kept = [h for h in hits if tallest[0] <= h[0] <= tallest[-1]]  # (z, x mm, y mm, edge)
    return FemurColumn(
        side,
        tuple(range(tallest[0], tallest[-1] + 1)),
        any(h[3] for h in kept),
        tuple((h[1], h[2], h[0] * slice_mm) for h in kept),
    )
