"""Shapes of the pelvis and proximal femurs, and their rendering into CT numbers.

A rendered bone is a list of voxels (flat indices into the volume) with an opacity and an opacity-weighted
CT number, so the soft tissue underneath can be blended in place: hu = hu * (1 - alpha) + premultiplied.
"""

from dataclasses import dataclass

import numpy as np

from . import reference as ref
from .anatomy import CORTEX_MM, Anatomy, Femur
from .sdf import (
    Block,
    Capsule,
    Clipped,
    Ellipsoid,
    Grid,
    Shape,
    Sphere,
    SphericalShell,
    frame_along,
    render_union,
    soft_inside,
    unit,
    vec,
)
from .texture import Architecture, TextureTiles, nearest_tile, sample_tile, trabecular_occupancy

PELVIS_CORTEX_MM = 1.2
# Trabecular bone of the pelvis is a little sparser than the femoral neck's at the same T-score.
PELVIS_DENSITY_RATIO = 0.85
SHAFT_MARROW_FADE_MM = 25.0  # below the lesser trochanter the medulla turns into a fatty canal


@dataclass(frozen=True)
class BoneDensity:
    """What one patient's bone looks like in CT, from the latent density (T-score units)."""

    density_t: float
    bv_tv: float  # trabecular bone volume fraction of the femoral neck
    marrow_hu: float
    cortex_hu: float
    cortex_scale: float
    bone_tissue_hu: float = (
        ref.HU_BONE_TISSUE
    )  # a trabecular strut as CT sees it; the randomised look moves it

    @classmethod
    def from_latent(cls, density_t: float) -> "BoneDensity":
        # Neck BV/TV ~0.21 at T=+1 down to ~0.04 at T=-4, and marrow fattier as bone is lost (Griffith JF
        # et al., Radiology 2005;236:945-951); cortex thinner and less mineralised.
        t = float(np.clip(density_t, -5.0, 3.0))
        return cls(
            density_t=t,
            bv_tv=float(np.clip(0.175 + 0.034 * t, 0.025, 0.3)),
            marrow_hu=float(np.clip(ref.HU_MARROW_RED + 14.0 * t - 12.0, -70.0, 25.0)),
            cortex_hu=float(np.clip(ref.HU_CORTEX_YOUNG + 90.0 * t, 1050.0, 1800.0)),
            cortex_scale=float(np.clip(1.0 + 0.07 * t, 0.65, 1.15)),
        )


@dataclass
class Rendered:
    index: np.ndarray  # flat indices into the volume (z, y, x order)
    alpha: np.ndarray
    premult: np.ndarray


@dataclass
class Voi:
    """Candidate voxels near and inside one femur's VOI with their signed distance (mm)."""

    index: np.ndarray
    distance: np.ndarray


def femur_parts(f: Femur, *, with_head: bool = True) -> list[tuple[Shape, float]]:
    r, up = f.head_radius, -f.shaft_down
    lateral = unit(f.lateral - (f.lateral @ f.shaft_down) * f.shaft_down)
    axes = np.stack([f.shaft_down, lateral, np.cross(f.shaft_down, lateral)])
    parts: list[tuple[Shape, float]] = []
    if with_head:
        parts.append((Sphere(f.head_centre, r), 0.0))
        parts.append((Capsule(f.head_centre - f.neck_axis * 0.3 * r, f.junction, 0.64 * r, 0.86 * r), 7.0))
    parts += [
        (Ellipsoid(f.junction + f.lateral * 0.25 * r, axes, vec(1.2, 0.95, 0.8) * r), 8.0),
        (
            Ellipsoid(
                f.junction + up * 0.85 * r + f.lateral * 0.8 * r + f.posterior * 0.2 * r,
                axes,
                vec(0.95, 0.5, 0.75) * r,
            ),
            6.0,
        ),
        (
            Capsule(
                f.junction + up * 0.2 * r,
                f.junction + f.shaft_down * 260.0,
                f.shaft_radius * 1.15,
                f.shaft_radius,
            ),
            10.0,
        ),
        (Ellipsoid(f.lesser_trochanter_centre, axes, f.lesser_trochanter_radii), 5.0),
    ]
    return parts


def hemipelvis_parts(a: Anatomy, f: Femur, joint_mm: float) -> list[tuple[Shape, float]]:
    """Acetabulum, ilium with its wing, pubic rami and ischium of one side, in the posed frame."""
    s, rot, h, r = f.side, a.pose.rotation, f.head_centre, f.head_radius

    def p(x: float, y: float, z: float):  # a point relative to this hip's centre, patient frame
        return h + rot @ vec(x, y, z)

    def d(x: float, y: float, z: float):
        return rot @ unit([x, y, z])

    opening = d(s * 0.75, -0.35, -0.55)
    cup = Clipped(SphericalShell(h, r + joint_mm + 5.0, 10.0), ((h + opening * 0.2 * r, opening),))
    wing_centre = p(-s * (a.hip_half_width - 20), 5.0, 0.55 * a.crest_z)
    wing = Clipped(
        Ellipsoid(wing_centre, rot.T, vec(a.hip_half_width + 25, 62.0, 0.62 * a.crest_z)),
        (
            (p(-s * (a.hip_half_width - 45), 0, 0), d(-s, 0, 0)),
            (p(0, -50, 0), d(0, -1, 0)),
            (p(0, 0, a.crest_z), d(0, 0, 1)),
            (p(0, 0, 15), d(0, 0, -1)),
        ),
    )
    wing_plate = _shell_of(wing, 7.0)
    tuberosity = p(-s * 32, 30, a.tuberosity_z - f.head_centre[2] + 12)
    symphysis = p(-s * (a.hip_half_width - 9), -62, -28)
    return [
        (cup, 0.0),
        (Capsule(p(-s * 5, 8, r + 6), p(-s * 18, 18, 0.45 * a.crest_z), 17.0, 11.0), 8.0),
        (wing_plate, 6.0),
        (Capsule(p(-s * 14, -18, -14), symphysis, 10.0, 8.5), 6.0),
        (Ellipsoid(symphysis + d(0, 0, -1) * 10, rot.T, vec(8.0, 11.0, 17.0)), 5.0),
        (Capsule(symphysis + d(0, 0, -1) * 20, tuberosity, 7.0, 9.0), 5.0),
        (Capsule(p(-s * 6, 20, -14), tuberosity, 14.0, 13.0), 7.0),
        (Ellipsoid(tuberosity, rot.T, vec(14.0, 17.0, 13.0)), 6.0),
    ]


@dataclass(frozen=True)
class _Shell(Shape):
    """The surface layer of a (clipped) ellipsoid: a curved plate such as the iliac wing."""

    inner: Clipped
    thickness: float

    def bounds(self):
        return self.inner.bounds()

    def distance(self, z, y, x):
        d = np.abs(self.inner.shape.distance(z, y, x)) - np.float32(self.thickness / 2)
        for point, normal in self.inner.planes:
            pt, n = point.astype(np.float32), normal.astype(np.float32)
            d = np.maximum(d, (x - pt[0]) * n[0] + (y - pt[1]) * n[1] + (z - pt[2]) * n[2])
        return d


def _shell_of(clipped: Clipped, thickness: float) -> Shape:
    return _Shell(clipped, thickness)


def sacrum_parts(a: Anatomy) -> list[tuple[Shape, float]]:
    rot, centre = a.pose.rotation, a.pose.shift + a.pose.rotation @ vec(0, 48, 0.45 * a.crest_z)
    tilt = frame_along([0.0, 0.3, -0.95])[[1, 2, 0]] @ rot.T
    return [(Ellipsoid(centre, tilt, vec(a.hip_half_width * 0.45, 22.0, 0.4 * a.crest_z)), 0.0)]


def parts_block(grid: Grid, parts: list[tuple[Shape, float]], margin: float = 3.0) -> Block | None:
    boxes = [s.bounds() for s, _ in parts]
    lo = np.min([b[0] for b in boxes], axis=0) - margin
    hi = np.max([b[1] for b in boxes], axis=0) + margin
    return grid.block(lo, hi)


def _voxels(grid: Grid, block: Block, local: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global flat indices and world points (N, 3: x, y, z) of block-local flat indices."""
    zi, yi, xi = np.unravel_index(local, block.shape)
    zi, yi, xi = zi + block.z.start, yi + block.y.start, xi + block.x.start
    points = np.stack(
        [
            grid.origin[0] + xi * grid.spacing[0],
            grid.origin[1] + yi * grid.spacing[1],
            grid.origin[2] + zi * grid.spacing[2],
        ],
        axis=1,
    )
    return np.ravel_multi_index((zi, yi, xi), grid.shape), points


def _trabecular(
    points: np.ndarray,
    tiles: TextureTiles,
    frames: tuple[np.ndarray, np.ndarray],
    origin: np.ndarray,
    arch: Architecture,
) -> np.ndarray:
    first, second = (sample_tile(t, points, fr, origin) for t, fr in zip(tiles.families, frames, strict=True))
    perforation = sample_tile(tiles.perforation, points, np.eye(3), origin)
    return trabecular_occupancy((first, second), perforation, arch)


def _cortex_mm(f: Femur, points: np.ndarray, scale: float) -> np.ndarray:
    """Cortical thickness by region: thin at the head, ~2 mm at the neck, thick down the shaft."""
    below = np.clip((f.voi_bottom_z + 5.0 - points[:, 2]) / 35.0, 0, 1)
    t = CORTEX_MM["neck"] + below * (CORTEX_MM["shaft"] - CORTEX_MM["neck"])
    in_head = np.linalg.norm(points - f.head_centre, axis=1) < f.head_radius - 1.0
    return (np.where(in_head, CORTEX_MM["head"], t) * scale).astype(np.float32)


def render_femur(
    grid: Grid,
    f: Femur,
    density: BoneDensity,
    tiles: TextureTiles,
    parts: list[tuple[Shape, float]],
    edge_mm: float,
) -> tuple[Rendered, Voi]:
    block = parts_block(grid, parts + [(Sphere(c, rad), 0.0) for c, rad in f.osteophytes])
    empty = np.empty(0, np.int64)
    if block is None:
        return Rendered(empty, np.empty(0, np.float32), np.empty(0, np.float32)), Voi(
            empty, np.empty(0, np.float32)
        )
    d = render_union(grid, block, parts)
    d_image = np.minimum(d, render_union(grid, block, [(Sphere(c, rad), 0.0) for c, rad in f.osteophytes]))
    local = np.flatnonzero(np.minimum(d_image, d - 1.5) < edge_mm)
    index, points = _voxels(grid, block, local)
    dist, dist_image = d.reshape(-1)[local], d_image.reshape(-1)[local]
    alpha = soft_inside(dist_image, edge_mm)
    inner = soft_inside(dist + _cortex_mm(f, points, density.cortex_scale), edge_mm)
    frames = (frame_along(f.neck_axis), frame_along(-f.shaft_down - 0.35 * f.lateral))
    occupancy = np.zeros_like(alpha)
    medulla = inner > 0
    arch = Architecture.for_bone_fraction(density.bv_tv, density.density_t)
    occupancy[medulla] = _trabecular(points[medulla], tiles, frames, f.head_centre, arch)
    occupancy *= np.clip(1 - (f.voi_bottom_z - 10.0 - points[:, 2]) / SHAFT_MARROW_FADE_MM, 0.08, 1).astype(
        np.float32
    )
    trabecular_hu = density.marrow_hu + (density.bone_tissue_hu - density.marrow_hu) * occupancy
    premult = density.cortex_hu * (alpha - inner) + trabecular_hu * inner
    in_voi_range = points[:, 2] >= f.voi_bottom_z
    return Rendered(index, alpha, premult.astype(np.float32)), Voi(index[in_voi_range], dist[in_voi_range])


def render_pelvis(
    grid: Grid, parts: list[tuple[Shape, float]], density: BoneDensity, tiles: TextureTiles, edge_mm: float
) -> Rendered:
    block = parts_block(grid, parts)
    if block is None:
        return Rendered(np.empty(0, np.int64), np.empty(0, np.float32), np.empty(0, np.float32))
    d = render_union(grid, block, parts)
    local = np.flatnonzero(d < edge_mm)
    index, points = _voxels(grid, block, local)
    dist = d.reshape(-1)[local]
    alpha = soft_inside(dist, edge_mm)
    inner = soft_inside(dist + PELVIS_CORTEX_MM * density.cortex_scale, edge_mm)
    arch = Architecture.for_bone_fraction(density.bv_tv * PELVIS_DENSITY_RATIO, density.density_t)
    occupancy = trabecular_occupancy(
        (nearest_tile(tiles.families[0], points), nearest_tile(tiles.families[1].transpose(2, 1, 0), points)),
        nearest_tile(tiles.perforation, points),
        arch,
    )
    trabecular_hu = density.marrow_hu + (density.bone_tissue_hu - density.marrow_hu) * occupancy
    premult = density.cortex_hu * (alpha - inner) + trabecular_hu * inner
    return Rendered(index, alpha, premult.astype(np.float32))


def render_solid(grid: Grid, parts: list[tuple[Shape, float]], hu: float, edge_mm: float) -> Rendered:
    """A homogeneous object (metal implant, lesion) as opacity and premultiplied CT number."""
    block = parts_block(grid, parts)
    if block is None:
        return Rendered(np.empty(0, np.int64), np.empty(0, np.float32), np.empty(0, np.float32))
    d = render_union(grid, block, parts)
    local = np.flatnonzero(d < edge_mm)
    index, _ = _voxels(grid, block, local)
    alpha = soft_inside(d.reshape(-1)[local], edge_mm)
    return Rendered(index, alpha, (alpha * np.float32(hu)).astype(np.float32))


def composite(volume: np.ndarray, layer: Rendered) -> None:
    flat = volume.reshape(-1)
    flat[layer.index] = flat[layer.index] * (1 - layer.alpha) + layer.premult
