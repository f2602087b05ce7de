"""Two readers' versions of the reference VOI: the same femur with the boundary moved by up to about a
voxel, smoothly, as two radiologists' contours differ. Tuned so that the Dice between readers is about
0.98-0.99, as in the paper's interobserver study (DSC 0.989 +/- 0.002).
"""

import numpy as np

from voi.labels import LEFT as LEFT_LABEL
from voi.labels import RIGHT as RIGHT_LABEL

from .anatomy import LEFT
from .bones import Voi
from .sdf import Grid

BOUNDARY_SD_MM = 0.2  # SD of the smooth boundary displacement of one reader
WAVES = 8
WAVELENGTH_MM = (12.0, 40.0)
READER_BIAS_MM = 0.05  # one reader draws a hair tighter than the other on average


def _boundary_shift(rng: np.random.Generator, points: np.ndarray) -> np.ndarray:
    """A smooth random field (mm) at the given world points: a sum of plane waves."""
    directions = rng.normal(size=(WAVES, 3))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    k = 2 * np.pi / rng.uniform(*WAVELENGTH_MM, WAVES)
    phase = rng.uniform(0, 2 * np.pi, WAVES)
    waves = np.sin((points @ (directions * k[:, None]).T) + phase)
    return (waves.sum(axis=1) * BOUNDARY_SD_MM * np.sqrt(2.0 / WAVES)).astype(np.float32)


def reader_masks(grid: Grid, vois: dict[int, Voi], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    masks = []
    for bias in (-READER_BIAS_MM, READER_BIAS_MM):
        label = np.zeros(grid.shape, dtype=np.uint8)
        flat = label.reshape(-1)
        for side, voi in vois.items():
            zi, yi, xi = np.unravel_index(voi.index, grid.shape)
            points = np.stack([xi * grid.spacing[0], yi * grid.spacing[1], zi * grid.spacing[2]], axis=1)
            inside = voi.distance + _boundary_shift(rng, points) + np.float32(bias) < 0
            flat[voi.index[inside]] = LEFT_LABEL if side == LEFT else RIGHT_LABEL
        masks.append(label)
    return masks[0], masks[1]
