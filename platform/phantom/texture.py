"""Trabecular texture: a 3-D network from band-limited noise whose density and architecture follow BMD.

Plates sit where a band-limited Gaussian field crosses zero (|field| < width), one field per trabecular
family, stretched along that family's direction (the principal compressive and tensile groups of the
proximal femur). Lower BMD thins the plates (smaller width) AND perforates them (a slower field removes
whole patches), so texture changes with density and not only the mean, as in osteoporotic bone where
plates turn into rods and connectivity falls (e.g. Parfitt AM, Bone 1992;13 Suppl 1:S41-47).
"""

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.special import ndtr, ndtri

TILE_VOXELS = 64
TILE_MM = 0.6  # tile voxel size; the tile repeats every 38 mm and is sampled along oblique axes
PLATE_WAVELENGTH_MM = 3.4  # spacing of the trabecular pattern as CT at ~0.7 mm resolves it
FAMILY_STRETCH = 2.5  # how much longer than wide a family's structures are
PERFORATION_WAVELENGTH_MM = 6.0


def _band_limited_tile(rng: np.random.Generator, wavelength_mm: float, stretch: float) -> np.ndarray:
    """A periodic unit-variance field with its power near 1/wavelength, elongated along axis 0."""
    white = rng.standard_normal((TILE_VOXELS,) * 3, dtype=np.float32)
    f = np.fft.fftfreq(TILE_VOXELS, d=TILE_MM).astype(np.float32)
    fr = np.fft.rfftfreq(TILE_VOXELS, d=TILE_MM).astype(np.float32)
    radial = np.sqrt((f[:, None, None] * stretch) ** 2 + f[None, :, None] ** 2 + fr[None, None, :] ** 2)
    f0 = 1.0 / wavelength_mm
    band = np.exp(-0.5 * ((radial - f0) / (0.45 * f0)) ** 2)
    field = np.fft.irfftn(np.fft.rfftn(white) * band, s=white.shape, axes=(0, 1, 2)).astype(np.float32)
    return field / field.std()


@dataclass(frozen=True)
class TextureTiles:
    families: tuple[np.ndarray, np.ndarray]
    perforation: np.ndarray


def make_tiles(rng: np.random.Generator) -> TextureTiles:
    # Two plate families, drawn one after the other from the same generator.
    first = _band_limited_tile(rng, PLATE_WAVELENGTH_MM, FAMILY_STRETCH)
    second = _band_limited_tile(rng, PLATE_WAVELENGTH_MM, FAMILY_STRETCH)
    return TextureTiles((first, second), _band_limited_tile(rng, PERFORATION_WAVELENGTH_MM, 1.0))


def sample_tile(tile: np.ndarray, points_mm: np.ndarray, frame: np.ndarray, origin: np.ndarray) -> np.ndarray:
    """Trilinear, periodic sample of `tile` at world points (N, 3) seen in an orthonormal `frame` (rows)."""
    local = ((points_mm - origin) @ frame.T / TILE_MM).T.astype(np.float32)
    return ndimage.map_coordinates(tile, local, order=1, mode="grid-wrap", prefilter=False)


def nearest_tile(tile: np.ndarray, points_mm: np.ndarray) -> np.ndarray:
    """Nearest-voxel periodic sample of `tile` on the world axes: cheap, for large flat bones."""
    n = tile.shape[0]
    idx = np.rint(points_mm / TILE_MM).astype(np.int64) % n
    return tile[idx[:, 0], idx[:, 1], idx[:, 2]]


def _plate_fraction(width: np.ndarray) -> np.ndarray:
    """Mean of max over two families of max(0, 1-|T|/w) for standard normal T (closed form per family)."""
    u = np.linspace(0.0, 1.0, 201)[None, :]
    one = 2.0 * ndtr(width[:, None] * (1.0 - u)) - 1.0  # P(one family's occupancy exceeds u)
    both = 1.0 - (1.0 - one) ** 2
    return np.trapezoid(both, u, axis=1)


_WIDTHS = np.linspace(0.001, 3.0, 600)
_FRACTIONS = _plate_fraction(_WIDTHS)


@dataclass(frozen=True)
class Architecture:
    """How a bone volume fraction is built: plate half-width (field SD units) and the kept fraction."""

    plate_width: float
    connectivity: float

    @classmethod
    def for_bone_fraction(cls, bv_tv: float, density_t: float) -> "Architecture":
        if not 0.0 < bv_tv < 0.9:
            raise ValueError(f"bone volume fraction must be in (0, 0.9), got {bv_tv}")
        # Perforation grows as density falls: about all plates kept at T=+1, a third lost at T=-4.
        connectivity = float(np.clip(0.93 + 0.075 * density_t, 0.55, 1.0))
        width = float(np.interp(min(bv_tv / connectivity, _FRACTIONS[-1]), _FRACTIONS, _WIDTHS))
        return cls(plate_width=width, connectivity=connectivity)


def trabecular_occupancy(
    fields: tuple[np.ndarray, np.ndarray], perforation: np.ndarray, arch: Architecture
) -> np.ndarray:
    """Fraction of each voxel filled by trabecular bone, given the sampled family and perforation fields."""
    w = np.float32(arch.plate_width)
    occupancy = np.maximum(1 - np.abs(fields[0]) / w, 1 - np.abs(fields[1]) / w)
    np.clip(occupancy, 0, 1, out=occupancy)
    # Keep the plates where the slow field is below its connectivity quantile (soft over 0.3 SD).
    threshold = np.float32(ndtri(arch.connectivity))
    keep = np.clip((threshold - perforation) / np.float32(0.3) + 0.5, 0, 1)
    return occupancy * keep
