"""What the randomised appearance adds around the hips: body size, arms in the field, contrast-filled
vessels and a metal nail in one femoral neck. The study appearance adds none of them.

Each is a rendered layer (bones.Rendered) composited like a bone, so the renderers stay unchanged.
"""

from dataclasses import replace

import numpy as np

from . import reference as ref
from .anatomy import LEFT, RIGHT, Anatomy
from .appearance import Appearance
from .bones import Rendered, render_solid
from .sdf import Capsule, Grid, unit
from .softtissue import BodyPlan

# An arm at the side at hip level: forearm soft tissue about 40 mm in radius, its fat layer 8 mm, and a
# bone (radius and ulna seen as one) of 9 mm (adult anthropometry, e.g. Gordon CC et al., ANSUR II 2014).
ARM_RADIUS_MM, ARM_FAT_MM, ARM_BONE_MM = 40.0, 8.0, 9.0
ARM_GAP_MM = 5.0
# Femoral artery (about 8 mm) and vein (about 12 mm) in front of the femoral head, the vein medial.
ARTERY_RADIUS_MM, VEIN_RADIUS_MM = 4.0, 6.0
VESSEL_ANTERIOR_MM = 28.0
# A cephalomedullary nail: lag screw of 10.5 mm into the head, nail of 11 mm down the shaft.
LAG_SCREW_RADIUS_MM, NAIL_RADIUS_MM, NAIL_LENGTH_MM = 5.25, 5.5, 160.0


def body_with_fat(a: Anatomy, fat_scale: float) -> Anatomy:
    """The same skeleton in a thinner or fatter body: the subcutaneous fat layer scaled, the trunk with it."""
    if fat_scale == 1.0:
        return a
    h = a.habitus
    extra = h.fat_mm * (fat_scale - 1.0)
    habitus = replace(
        h,
        fat_mm=h.fat_mm * fat_scale,
        half_width=h.half_width + extra,
        half_depth=h.half_depth + 0.8 * extra,
        visceral=float(np.clip(h.visceral + 0.15 * (fat_scale - 1.0), 0.1, 0.95)),
    )
    return replace(a, habitus=habitus)


def extra_layers(grid: Grid, a: Anatomy, look: Appearance) -> list[Rendered]:
    """Arms and contrast-filled vessels, in the order they are composited (under the bones)."""
    layers: list[Rendered] = []
    if look.arms_in_field:
        layers += _arms(grid, a, look)
    if look.artery_hu is not None and look.vein_hu is not None:
        layers += _vessels(grid, a, look.artery_hu, look.vein_hu)
    return layers


def _arms(grid: Grid, a: Anatomy, look: Appearance) -> list[Rendered]:
    plan, edge = BodyPlan(a, look.tissues), grid.spacing[0]
    y = plan.table_y - ARM_RADIUS_MM
    top, bottom = a.crest_z + 200.0, a.tuberosity_z - 60.0
    layers = []
    for side in (LEFT, RIGHT):
        x = a.pose.shift[0] + side * (a.habitus.half_width + ARM_RADIUS_MM + ARM_GAP_MM)
        axis = (np.array([x, y, top]), np.array([x, y, bottom]))
        for radius, hu in (
            (ARM_RADIUS_MM, look.tissues.fat),
            (ARM_RADIUS_MM - ARM_FAT_MM, look.tissues.muscle),
            (ARM_BONE_MM, look.cortex_hu or ref.HU_CORTEX_YOUNG),
        ):
            layers.append(render_solid(grid, [(Capsule(*axis, radius, radius), 0.0)], hu, edge))
    return layers


def _vessels(grid: Grid, a: Anatomy, artery_hu: float, vein_hu: float) -> list[Rendered]:
    layers, edge = [], grid.spacing[0]
    for f in a.femurs:
        h, s = f.head_centre, f.side
        for medial, radius, hu in ((0.0, ARTERY_RADIUS_MM, artery_hu), (12.0, VEIN_RADIUS_MM, vein_hu)):
            top = h + np.array([-s * (35.0 + medial), -VESSEL_ANTERIOR_MM + 8.0, 90.0])
            bottom = h + np.array([-s * (5.0 + medial), -VESSEL_ANTERIOR_MM, -110.0])
            layers.append(render_solid(grid, [(Capsule(top, bottom, radius, radius), 0.0)], hu, edge))
    return layers


def nail_metal(grid: Grid, a: Anatomy, look: Appearance) -> Rendered | None:
    """A cephalomedullary nail in one femur (side from the look's seed): a lag screw up the neck into the
    head, and the nail down the shaft. The femur's label is unchanged: the metal lies inside the VOI."""
    if not look.nail:
        return None
    f = a.femur(LEFT if np.random.default_rng(look.seeds["extras"]).random() < 0.5 else RIGHT)
    r = f.head_radius
    screw = Capsule(
        f.junction - f.neck_axis * 0.9 * r,
        f.head_centre + f.neck_axis * 0.45 * r,
        LAG_SCREW_RADIUS_MM,
        LAG_SCREW_RADIUS_MM,
    )
    entry = f.junction - f.shaft_down * 0.9 * r + unit(f.lateral) * 0.35 * r
    nail = Capsule(entry, entry + f.shaft_down * NAIL_LENGTH_MM, NAIL_RADIUS_MM, NAIL_RADIUS_MM)
    return render_solid(grid, [(screw, 0.0), (nail, 2.0)], ref.HU_METAL, grid.spacing[0])
