"""Signed distance fields (mm, negative inside) on blocks of an LPS voxel grid.

Each shape is evaluated only inside its own bounding box, so a bone costs what its size costs and not
what the field of view costs. Distances are clamped at FAR_MM: only the band near a surface matters
(soft edges, cortex), which lets a union skip every voxel outside a shape's box.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

FAR_MM = 12.0
Vec = np.ndarray
# A length in mm: numpy's float32 scalars, which the phantom computes in, are not `float` to a type checker.
Scalar = float | np.floating
# A point or direction in LPS millimetres (x, y, z): a literal triple or a Vec computed from others.
Point = Sequence[Scalar] | Vec


def vec(x: float, y: float, z: float) -> Vec:
    return np.array([x, y, z], dtype=np.float64)


def unit(v: Point) -> Vec:
    as_array = np.asarray(v, dtype=np.float64)
    return as_array / np.linalg.norm(as_array)


@dataclass(frozen=True)
class Block:
    """A box of voxels: index slices in array order (z, y, x)."""

    z: slice
    y: slice
    x: slice

    @property
    def slices(self) -> tuple[slice, slice, slice]:
        return (self.z, self.y, self.x)

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.z.stop - self.z.start, self.y.stop - self.y.start, self.x.stop - self.x.start)

    def within(self, outer: "Block") -> tuple[slice, slice, slice]:
        """This block's slices relative to the start of `outer`."""
        z, y, x = (
            slice(s.start - o.start, s.stop - o.start) for s, o in zip(self.slices, outer.slices, strict=True)
        )
        return z, y, x


@dataclass(frozen=True)
class Grid:
    """A CT volume's voxel grid in LPS millimetres; identity direction, arrays indexed [z, y, x]."""

    origin: tuple[float, float, float]
    spacing: tuple[float, float, float]
    size: tuple[int, int, int]  # (x, y, z) as SimpleITK counts it

    @property
    def shape(self) -> tuple[int, int, int]:
        return (self.size[2], self.size[1], self.size[0])

    def axis_mm(self, axis: int, index: slice) -> np.ndarray:
        """World coordinates (float32) of the voxel centres along x (0), y (1) or z (2)."""
        idx = np.arange(index.start, index.stop, dtype=np.float64)
        return (self.origin[axis] + idx * self.spacing[axis]).astype(np.float32)

    def coords(self, block: Block) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Broadcastable (z, y, x) coordinate arrays of a block."""
        z = self.axis_mm(2, block.z)[:, None, None]
        y = self.axis_mm(1, block.y)[None, :, None]
        x = self.axis_mm(0, block.x)[None, None, :]
        return z, y, x

    def block(self, lo: Point, hi: Point) -> Block | None:
        """The voxels whose centres fall in the world box [lo, hi] (x, y, z); None when it misses."""
        ranges = []
        for axis in (2, 1, 0):
            first = int(np.ceil((lo[axis] - self.origin[axis]) / self.spacing[axis]))
            last = int(np.floor((hi[axis] - self.origin[axis]) / self.spacing[axis])) + 1
            first, last = max(first, 0), min(last, self.size[axis])
            if last <= first:
                return None
            ranges.append(slice(first, last))
        return Block(*ranges)

    def intersect(self, a: Block, b: Block) -> Block | None:
        out = []
        for sa, sb in zip(a.slices, b.slices, strict=True):
            lo, hi = max(sa.start, sb.start), min(sa.stop, sb.stop)
            if hi <= lo:
                return None
            out.append(slice(lo, hi))
        return Block(*out)


class Shape:
    def bounds(self) -> tuple[Vec, Vec]:
        raise NotImplementedError

    def distance(self, z: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError


@dataclass(frozen=True)
class Sphere(Shape):
    centre: Vec
    radius: float

    def bounds(self) -> tuple[Vec, Vec]:
        return self.centre - self.radius, self.centre + self.radius

    def distance(self, z, y, x):
        c = self.centre.astype(np.float32)
        return np.sqrt((x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2) - np.float32(self.radius)


@dataclass(frozen=True)
class Capsule(Shape):
    """A segment a-b swept by a radius that changes linearly from ra to rb (a rounded cone)."""

    a: Vec
    b: Vec
    ra: float
    rb: float

    def bounds(self) -> tuple[Vec, Vec]:
        r = max(self.ra, self.rb)
        return np.minimum(self.a, self.b) - r, np.maximum(self.a, self.b) + r

    def distance(self, z, y, x):
        a = self.a.astype(np.float32)
        ba = (self.b - self.a).astype(np.float32)
        px, py, pz = x - a[0], y - a[1], z - a[2]
        t = np.clip((px * ba[0] + py * ba[1] + pz * ba[2]) / np.float32(ba @ ba), 0, 1)
        dist = np.sqrt((px - t * ba[0]) ** 2 + (py - t * ba[1]) ** 2 + (pz - t * ba[2]) ** 2)
        return dist - (np.float32(self.ra) + t * np.float32(self.rb - self.ra))


@dataclass(frozen=True)
class Ellipsoid(Shape):
    """An ellipsoid with semi-axes `radii` along the rows of `axes` (orthonormal)."""

    centre: Vec
    axes: np.ndarray
    radii: Vec

    def bounds(self) -> tuple[Vec, Vec]:
        extent = np.sqrt(((self.axes * self.radii[:, None]) ** 2).sum(axis=0))
        return self.centre - extent, self.centre + extent

    def distance(self, z, y, x):
        c = self.centre.astype(np.float32)
        px, py, pz = x - c[0], y - c[1], z - c[2]
        k0 = np.float32(0)
        k1 = np.float32(0)
        for row, r in zip(self.axes.astype(np.float32), self.radii, strict=True):
            q = px * row[0] + py * row[1] + pz * row[2]
            k0 = k0 + (q / np.float32(r)) ** 2
            k1 = k1 + (q / np.float32(r * r)) ** 2
        k0 = np.sqrt(k0)
        # Inigo Quilez's bound for the ellipsoid distance: exact on the surface, good near it.
        return k0 * (k0 - 1) / np.maximum(np.sqrt(k1), np.float32(1e-6))


@dataclass(frozen=True)
class SphericalShell(Shape):
    centre: Vec
    radius: float
    thickness: float

    def bounds(self) -> tuple[Vec, Vec]:
        r = self.radius + self.thickness / 2
        return self.centre - r, self.centre + r

    def distance(self, z, y, x):
        c = self.centre.astype(np.float32)
        r = np.sqrt((x - c[0]) ** 2 + (y - c[1]) ** 2 + (z - c[2]) ** 2)
        return np.abs(r - np.float32(self.radius)) - np.float32(self.thickness / 2)


@dataclass(frozen=True)
class Clipped(Shape):
    """A shape cut by half-spaces; each plane is (point, normal) and keeps the side against the normal."""

    shape: Shape
    planes: tuple[tuple[Vec, Vec], ...]
    box: tuple[Vec, Vec] | None = None

    def bounds(self) -> tuple[Vec, Vec]:
        lo, hi = self.shape.bounds()
        if self.box is not None:
            lo, hi = np.maximum(lo, self.box[0]), np.minimum(hi, self.box[1])
        # A plane facing (nearly) along an axis also bounds the box; the slack covers the tilt.
        for point, normal in self.planes:
            axis = int(np.argmax(np.abs(normal)))
            if abs(normal[axis]) > 0.95:
                slack = float(np.max(hi - lo)) / abs(normal[axis])
                if normal[axis] > 0:
                    hi = hi.copy()
                    hi[axis] = min(hi[axis], point[axis] + slack * np.sqrt(1 - normal[axis] ** 2) + 1.0)
                else:
                    lo = lo.copy()
                    lo[axis] = max(lo[axis], point[axis] - slack * np.sqrt(1 - normal[axis] ** 2) - 1.0)
        return lo, hi

    def distance(self, z, y, x):
        d = self.shape.distance(z, y, x)
        for point, normal in self.planes:
            p, n = point.astype(np.float32), normal.astype(np.float32)
            d = np.maximum(d, (x - p[0]) * n[0] + (y - p[1]) * n[1] + (z - p[2]) * n[2])
        return d


def smooth_min(a: np.ndarray, b: np.ndarray, k: float) -> np.ndarray:
    """Polynomial smooth union: blends two surfaces over about k mm, like a fillet between bones."""
    if k <= 0:
        return np.minimum(a, b)
    h = np.maximum(np.float32(k) - np.abs(a - b), 0) / np.float32(k)
    return np.minimum(a, b) - h * h * np.float32(k / 4)


def render_union(grid: Grid, block: Block, parts: Iterable[tuple[Shape, float]]) -> np.ndarray:
    """Distance to the smooth union of `parts` (shape, blend mm) on `block`, clamped to +FAR_MM."""
    field = np.full(block.shape, FAR_MM, dtype=np.float32)
    for shape, blend in parts:
        lo, hi = shape.bounds()
        part_block = grid.block(lo - FAR_MM - blend, hi + FAR_MM + blend)
        sub = grid.intersect(block, part_block) if part_block else None
        if sub is None:
            continue
        local = sub.within(block)
        field[local] = smooth_min(field[local], shape.distance(*grid.coords(sub)), blend)
    return np.minimum(field, FAR_MM, out=field)


def soft_inside(distance: np.ndarray, edge_mm: Scalar) -> np.ndarray:
    """Fraction of a voxel inside a surface: a linear ramp of width edge_mm, like partial volume."""
    return np.clip(np.float32(0.5) - distance / np.float32(edge_mm), 0, 1)


@dataclass(frozen=True)
class Union(Shape):
    """A smooth union of parts as one shape (for cutting a whole bone, as a fracture does)."""

    parts: tuple[tuple[Shape, float], ...]

    def bounds(self) -> tuple[Vec, Vec]:
        boxes = [s.bounds() for s, _ in self.parts]
        return np.min([b[0] for b in boxes], axis=0), np.max([b[1] for b in boxes], axis=0)

    def distance(self, z, y, x):
        field = None
        for shape, blend in self.parts:
            d = shape.distance(z, y, x)
            field = d if field is None else smooth_min(field, d, blend)
        return field


@dataclass(frozen=True)
class Translated(Shape):
    shape: Shape
    offset: Vec

    def bounds(self) -> tuple[Vec, Vec]:
        lo, hi = self.shape.bounds()
        return lo + self.offset, hi + self.offset

    def distance(self, z, y, x):
        o = self.offset.astype(np.float32)
        return self.shape.distance(z - o[2], y - o[1], x - o[0])


def frame_along(direction: Point) -> np.ndarray:
    """An orthonormal frame (rows) whose first axis is `direction`."""
    first = unit(direction)
    helper = np.array([0.0, 1.0, 0.0]) if abs(first[1]) < 0.9 else np.array([1.0, 0.0, 0.0])
    second = unit(np.cross(first, helper))
    return np.stack([first, second, np.cross(first, second)])
