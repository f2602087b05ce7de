"""Soft tissue, slab by slab: skin-to-muscle fat, muscle, the pelvic cavity (visceral fat, bowel with gas,
bladder), the thighs below the perineum and the CT table under the patient.

Every boundary is an ellipse in the axial plane whose size follows z; edges are soft over one voxel, the
way partial volume softens them in a real scan.
"""

from dataclasses import dataclass

import numpy as np

from . import reference as ref
from .anatomy import Anatomy
from .appearance import STUDY_TISSUES, Tissues
from .sdf import Grid, Scalar, soft_inside

BOWEL_TILE_MM = 3.0
BOWEL_WAVELENGTH_MM = 28.0
TABLE_HALF_WIDTH_MM = 225.0
TABLE_LAYERS_MM = (4.0, 36.0, 40.0)  # top shell, foam core, bottom shell (cumulative depth)


def _ellipse_inside(x, y, cx, cy, a, b, edge):
    """Soft inside-fraction of an axis-aligned ellipse whose centre and axes may change with z.

    Near the outline (q = (dx/a)^2 + (dy/b)^2 close to 1) the distance is about (q - 1) * sqrt(ab) / 2,
    so the ramp is P(z, x) - Q(z, y): two small broadcast terms and only two full-size operations. The
    edge width is off by at most the ellipse's axis ratio, which only changes how soft the edge is.
    """
    c = np.sqrt(a * b) / (2 * edge)
    p = np.float32(0.5) + c - c * ((x - cx) / a) ** 2
    q = c * ((y - cy) / b) ** 2
    return np.clip(p - q, 0, 1)


@dataclass(frozen=True)
class BodyPlan:
    """Per-slice sizes of the trunk, thighs and pelvic cavity for one patient (all in mm)."""

    anatomy: Anatomy
    tissues: Tissues = STUDY_TISSUES

    @property
    def table_y(self) -> float:
        h = self.anatomy.habitus
        return float(self.anatomy.pose.shift[1] + h.half_depth * 0.92)

    def trunk(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, h = self.anatomy, self.anatomy.habitus
        belly = 1.0 + 0.18 * h.visceral * np.clip(z / a.crest_z, 0, 1.5)
        waist = 1.0 - 0.08 * np.clip(z / a.crest_z, 0, 1)
        perineum = a.tuberosity_z + 12.0
        fade = np.clip((z - (perineum - 30.0)) / 30.0, 0.02, 1)
        return h.half_width * waist * fade, h.half_depth * belly * np.sqrt(fade)

    def thigh(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        a, h = self.anatomy, self.anatomy.habitus
        grow = np.clip(0.75 - z / 60.0, 0.02, 1)  # full size below the hips, inside the trunk above
        return (0.5 * h.half_width * grow, 0.8 * h.half_depth * grow, a.hip_half_width + 0.12 * h.half_width)

    def cavity(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a = self.anatomy
        top = np.clip(z / a.crest_z, 0, 1)
        shrink = np.clip((z - a.tuberosity_z) / (0.0 - a.tuberosity_z + 30.0), 0.02, 1)
        half_w = (a.hip_half_width - self.anatomy.femurs[0].head_radius - 12.0) * (1 + 0.7 * top) * shrink
        return half_w, (0.4 + 0.15 * top) * a.habitus.half_depth * shrink


def bowel_tile(rng: np.random.Generator) -> np.ndarray:
    """A periodic, slowly varying field: where it is high there are bowel loops, at its peaks gas."""
    n = 64
    white = rng.standard_normal((n, n, n), dtype=np.float32)
    f = np.fft.fftfreq(n, d=BOWEL_TILE_MM)
    fr = np.fft.rfftfreq(n, d=BOWEL_TILE_MM)
    radial = np.sqrt(f[:, None, None] ** 2 + f[None, :, None] ** 2 + fr[None, None, :] ** 2)
    band = np.exp(-0.5 * ((radial - 1 / BOWEL_WAVELENGTH_MM) / (0.5 / BOWEL_WAVELENGTH_MM)) ** 2)
    field = np.fft.irfftn(np.fft.rfftn(white) * band, s=white.shape, axes=(0, 1, 2)).astype(np.float32)
    return field / field.std()


def _tile_at(tile: np.ndarray, grid: Grid, z_slice: slice, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    n = tile.shape[0]
    zi = np.rint(grid.axis_mm(2, z_slice) / BOWEL_TILE_MM).astype(int) % n
    yi = np.rint(y.ravel() / BOWEL_TILE_MM).astype(int) % n
    xi = np.rint(x.ravel() / BOWEL_TILE_MM).astype(int) % n
    return tile[np.ix_(zi, yi, xi)]


def table_slice(grid: Grid, plan: BodyPlan) -> np.ndarray:
    """One axial slice of air with a carbon-fibre table (foam core) under the patient; the same on every slice."""
    edge = np.float32(grid.spacing[0])
    x = grid.axis_mm(0, slice(0, grid.size[0]))[None, :] - np.float32(plan.anatomy.pose.shift[0])
    depth = grid.axis_mm(1, slice(0, grid.size[1]))[:, None] - np.float32(plan.table_y + 2.0)
    inside_x = soft_inside(np.abs(x) - TABLE_HALF_WIDTH_MM, edge)
    top, core, bottom = TABLE_LAYERS_MM
    whole = soft_inside(np.abs(depth - bottom / 2) - bottom / 2, edge) * inside_x
    foam = soft_inside(np.abs(depth - (top + core) / 2) - (core - top) / 2, edge) * inside_x
    hu = (whole - foam) * np.float32(plan.tissues.table_shell) + foam * np.float32(plan.tissues.table_foam)
    return (np.float32(ref.HU_AIR) * (1 - whole) + hu).astype(np.float32)


def _window(grid: Grid, z_slice: slice, x_range: tuple[Scalar, Scalar], y_range: tuple[Scalar, Scalar]):
    """Index slices (y, x) of the voxels within a world rectangle, or None when it misses the grid."""
    block = grid.block((x_range[0], y_range[0], grid.origin[2]), (x_range[1], y_range[1], grid.origin[2]))
    return None if block is None else (block.y, block.x)


def _cavity_tissue(
    grid: Grid, plan: BodyPlan, tile: np.ndarray, z_slice: slice, z, y, x, cy, tb
) -> np.ndarray:
    """Visceral fat with bowel loops (gas at the loops' peaks) and the bladder, inside the pelvic cavity."""
    a = plan.anatomy
    field = _tile_at(tile, grid, z_slice, y, x)
    loops = np.clip((field - np.float32(1.6 * a.habitus.visceral - 0.6)) / np.float32(0.4), 0, 1)
    loops *= np.clip(z / np.float32(30.0), 0, 1)  # the small bowel lies above the bladder
    gas = np.clip((field - np.float32(1.9)) / np.float32(0.15), 0, 1) * loops
    t = plan.tissues
    tissue = np.float32(t.fat) * (1 - loops) + loops * (
        np.float32(t.bowel_wall) * (1 - gas) + gas * np.float32(ref.HU_BOWEL_GAS)
    )
    bladder = soft_inside(_bladder_distance(plan, x, y, z, cy, tb), np.float32(grid.spacing[0]))
    return tissue * (1 - bladder) + bladder * np.float32(t.urine)


def render_slab(
    grid: Grid, plan: BodyPlan, tile: np.ndarray, table: np.ndarray, z_slice: slice, out: np.ndarray
) -> None:
    """Write the soft-tissue CT numbers of slices `z_slice` into `out` (shape: slices, y, x).

    Work is limited to the body's bounding rectangle (and the cavity's within it): outside lies air and
    the table, which are the same on every slice.
    """
    a, edge = plan.anatomy, np.float32(grid.spacing[0])
    out[...] = table
    z = grid.axis_mm(2, z_slice)[:, None, None]
    cx, fat = np.float32(a.pose.shift[0]), np.float32(a.habitus.fat_mm)
    ta, tb = (v.astype(np.float32) for v in plan.trunk(z))
    wa, wb, offset = plan.thigh(z)
    wa, wb = wa.astype(np.float32), wb.astype(np.float32)
    half_x = float(max(ta.max(), offset + wa.max())) + 2 * float(edge)
    window = _window(
        grid,
        z_slice,
        (cx - half_x, cx + half_x),
        (plan.table_y - 2 * float(max(tb.max(), wb.max())) - 5, plan.table_y + 2),
    )
    if window is None:
        return
    ys, xs = window
    y = grid.axis_mm(1, ys)[None, :, None]
    x = grid.axis_mm(0, xs)[None, None, :]
    cy = np.float32(plan.table_y) - tb
    body_in = _ellipse_inside(x, y, cx, cy, ta, tb, edge)
    muscle_in = _ellipse_inside(
        x,
        y,
        cx,
        cy - np.float32(0.1) * fat,
        np.maximum(ta - fat, 1),
        np.maximum(tb - np.float32(0.9) * fat, 1),
        edge,
    )
    if float(z.min()) < 0:
        wy = np.float32(plan.table_y) - wb
        for side in (1, -1):
            tx = cx + np.float32(side * offset)
            np.maximum(body_in, _ellipse_inside(x, y, tx, wy, wa, wb, edge), out=body_in)
            thigh_muscle = _ellipse_inside(
                x,
                y,
                tx,
                wy,
                np.maximum(wa - np.float32(0.8) * fat, 1),
                np.maximum(wb - np.float32(0.8) * fat, 1),
                edge,
            )
            np.maximum(muscle_in, thigh_muscle, out=muscle_in)
    t = plan.tissues
    inner = np.full(body_in.shape, np.float32(t.muscle), dtype=np.float32)
    ca, cb = (v.astype(np.float32) for v in plan.cavity(z))
    ccy = cy - np.float32(0.3) * tb
    cav = _window(
        grid,
        z_slice,
        (cx - float(ca.max()) - 2, cx + float(ca.max()) + 2),
        (float((ccy - cb).min()) - 2, float((ccy + cb).max()) + 2),
    )
    if cav is not None:
        cys, cxs = cav
        sub = (
            slice(None),
            slice(cys.start - ys.start, cys.stop - ys.start),
            slice(cxs.start - xs.start, cxs.stop - xs.start),
        )
        cyy, cxx = grid.axis_mm(1, cys)[None, :, None], grid.axis_mm(0, cxs)[None, None, :]
        cavity = _ellipse_inside(cxx, cyy, cx, ccy, ca, cb, edge)
        inner[sub] += cavity * (
            _cavity_tissue(grid, plan, tile, z_slice, z, cyy, cxx, cy, tb) - np.float32(t.muscle)
        )
    inner -= np.float32(t.fat)
    inner *= muscle_in
    inner += np.float32(t.fat)
    if t.fat_spread or t.muscle_spread:  # the study's tissues are flat; skipping keeps its bytes
        _add_spread(inner, muscle_in, t, _tile_at(tile.transpose(2, 1, 0), grid, z_slice, y, x))
    target = out[:, ys, xs]
    inner -= target
    inner *= body_in
    out[:, ys, xs] = target + inner


def _add_spread(inner: np.ndarray, muscle_in: np.ndarray, t: Tissues, field: np.ndarray) -> None:
    """A slowly varying within-tissue spread (HU SD per tissue), from a field decorrelated from the bowel's."""
    sd = np.float32(t.fat_spread) + (np.float32(t.muscle_spread) - np.float32(t.fat_spread)) * muscle_in
    inner += field * sd


def _bladder_distance(plan: BodyPlan, x, y, z, cy, tb):
    a = plan.anatomy
    r = a.bladder_radii.astype(np.float32)
    bz = np.float32(r[2] - 18.0)
    bx, bcy = np.float32(a.pose.shift[0]), cy - np.float32(0.45) * tb
    k = np.sqrt(((x - bx) / r[0]) ** 2 + ((y - bcy) / r[1]) ** 2 + ((z - bz) / r[2]) ** 2)
    return (k - 1) * np.float32(min(r))
