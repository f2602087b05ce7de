"""Regions of known tissue in a generated case, from its own anatomy: for checking CT numbers.

Each region is a small sphere or ring placed where that tissue is certain to be (away from any edge), as
a physicist would place ROIs on a phantom scan.
"""

import numpy as np

from .anatomy import LEFT
from .bones import CORTEX_MM
from .sdf import Grid
from .softtissue import BodyPlan

ROI_RADIUS_MM = 5.0


def _sphere(grid: Grid, centre: np.ndarray, radius: float) -> np.ndarray:
    block = grid.block(centre - radius, centre + radius)
    if block is None:
        return np.empty(0, np.int64)
    z, y, x = grid.coords(block)
    inside = (x - centre[0]) ** 2 + (y - centre[1]) ** 2 + (z - centre[2]) ** 2 <= radius**2
    zi, yi, xi = np.nonzero(inside)
    return np.ravel_multi_index((zi + block.z.start, yi + block.y.start, xi + block.x.start), grid.shape)


def _thigh_level(case) -> float:
    f = case.anatomy.femur(LEFT)
    return max(f.voi_bottom_z - 25.0, case.grid.origin[2] + 6.0)


def fat_roi(case) -> np.ndarray:
    """Subcutaneous fat on the lateral side of the left thigh."""
    plan, z = BodyPlan(case.anatomy), _thigh_level(case)
    wa, wb, offset = plan.thigh(np.array(z))
    fat = case.anatomy.habitus.fat_mm
    centre = np.array(
        [case.anatomy.pose.shift[0] + offset + float(wa) - 0.4 * fat, plan.table_y - float(wb), z]
    )
    return _sphere(case.grid, centre, min(ROI_RADIUS_MM, 0.25 * fat))


def muscle_roi(case) -> np.ndarray:
    """The quadriceps in front of the left femoral shaft."""
    f, z = case.anatomy.femur(LEFT), _thigh_level(case)
    along = (f.junction[2] - z) / -f.shaft_down[2]
    axis = f.junction + f.shaft_down * along
    return _sphere(case.grid, axis + np.array([0.0, -(f.shaft_radius + 22.0), 0.0]), ROI_RADIUS_MM)


def cortex_roi(case) -> np.ndarray:
    """A ring in the middle of the left femoral shaft's cortex, at the thigh level."""
    f, z, grid = case.anatomy.femur(LEFT), _thigh_level(case), case.grid
    along = (f.junction[2] - z) / -f.shaft_down[2]
    axis = f.junction + f.shaft_down * along
    outer = f.shaft_radius * (1.15 - 0.15 * along / 260.0)
    zi = int(round((z - grid.origin[2]) / grid.spacing[2]))
    y = grid.axis_mm(1, slice(0, grid.size[1]))[:, None]
    x = grid.axis_mm(0, slice(0, grid.size[0]))[None, :]
    r = np.sqrt((x - axis[0]) ** 2 + (y - axis[1]) ** 2)
    middle = outer - 0.5 * CORTEX_MM["shaft"] * 0.65  # the thinnest cortex the phantom makes
    yi, xi = np.nonzero(np.abs(r - middle) <= 0.6)
    return np.ravel_multi_index((np.full_like(yi, zi), yi, xi), grid.shape)


def tissue_rois(case) -> dict[str, np.ndarray]:
    return {
        "fat": fat_roi(case),
        "muscle": muscle_roi(case),
        "cortex": cortex_roi(case),
        "trabecular": case.femoral_neck_roi(LEFT),
    }
