"""A simple synthetic hip CT (two femurs, acetabula, pelvis, soft tissue) for tests and benchmarks.

Not the study phantom (platform/phantom makes realistic cohorts): this is a quick, dependency-free volume
built in physical LPS space, so it can be written on any grid (origin, spacing, direction) and still put
the patient's left femur at +x. Shapes are signed distance functions of spheres and capsules.
"""

from __future__ import annotations

import numpy as np
import SimpleITK as sitk

CORTEX_HU, TRABECULAR_HU, PELVIS_HU = 1100.0, 280.0, 450.0
MUSCLE_HU, FAT_HU, AIR_HU = 45.0, -90.0, -1000.0
CORTEX_MM = 2.5
# The VOI stops at the level of the lesser trochanter (method.md, "Manual segmentation").
VOI_BELOW_LESSER_TROCHANTER_MM = 8.0


def synthetic_hip(
    *,
    size=(96, 80, 64),
    spacing=(4.0, 4.0, 5.0),
    origin=None,
    direction=None,
    seed: int = 0,
    noise_hu: float = 20.0,
) -> tuple[sitk.Image, sitk.Image]:
    """(CT in HU as int16, labels uint8: 1 left, 2 right proximal femur) on the requested grid."""
    rng = np.random.default_rng(seed)
    reference = _grid(size, spacing, origin, direction)
    centre = np.array(reference.TransformContinuousIndexToPhysicalPoint([(s - 1) / 2 for s in size]))
    anatomy = _Anatomy(centre + rng.normal(0, 8, 3), scale=rng.uniform(0.9, 1.1))
    image = np.empty(tuple(size[::-1]), dtype=np.int16)
    labels = np.zeros(tuple(size[::-1]), dtype=np.uint8)
    for z in range(size[2]):
        points = _slice_points(reference, z)
        hu, lab = anatomy.render(points)
        image[z] = np.clip(hu + rng.normal(0, noise_hu, hu.shape), -1024, 3000).reshape(size[1], size[0])
        labels[z] = lab.reshape(size[1], size[0])
    return _as_image(image, reference), _as_image(labels, reference)


class _Anatomy:
    def __init__(self, centre: np.ndarray, scale: float):
        self.centre, self.s = centre, scale

    def render(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = (p - self.centre) / self.s
        body = (q[:, 0] / 160) ** 2 + (q[:, 1] / 115) ** 2
        hu = np.where(body < 1, np.where(body < 0.75, MUSCLE_HU, FAT_HU), AIR_HU)
        labels = np.zeros(len(q), dtype=np.uint8)
        pelvis = self._pelvis(q)
        hu = np.where(pelvis < 0, PELVIS_HU + 500 * (pelvis > -CORTEX_MM), hu)
        for side, mirror in ((1, 1.0), (2, -1.0)):
            femur, cut = self._femur(q * np.array([mirror, 1, 1]))
            hu = np.where(femur < 0, np.where(femur > -CORTEX_MM, CORTEX_HU, TRABECULAR_HU), hu)
            labels[(femur < 0) & (q[:, 2] >= cut)] = side
        return hu, labels

    def _femur(self, q: np.ndarray) -> tuple[np.ndarray, float]:
        head = _sphere(q, (85, 0, 0), 23)
        neck = _capsule(q, (85, 0, 0), (118, 4, -30), 14)
        greater = _sphere(q, (124, 6, -34), 16)
        shaft = _capsule(q, (120, 4, -34), (112, 0, -220), 15)
        lesser = _sphere(q, (106, 14, -72), 9)
        return np.minimum.reduce([head, neck, greater, shaft, lesser]), -72 - VOI_BELOW_LESSER_TROCHANTER_MM

    def _pelvis(self, q: np.ndarray) -> np.ndarray:
        parts = [_capsule(q, (0, 70, 0), (0, 80, 120), 30)]  # sacrum
        for m in (1.0, -1.0):
            qm = q * np.array([m, 1, 1])
            cup = np.maximum(_sphere(qm, (85, 0, 0), 33), -_sphere(qm, (85, 0, 0), 27))
            cup = np.maximum(cup, qm[:, 0] - 95)  # the acetabulum opens laterally
            parts += [
                cup,
                _capsule(qm, (80, 10, 20), (110, 40, 120), 12),  # iliac wing
                _capsule(qm, (70, 10, -20), (30, -10, -45), 9),
            ]  # pubic ramus
        return np.minimum.reduce(parts)


def _sphere(q, c, r):
    return np.linalg.norm(q - np.asarray(c, dtype=float), axis=1) - r


def _capsule(q, a, b, r):
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    t = np.clip((q - a) @ (b - a) / ((b - a) @ (b - a)), 0, 1)
    return np.linalg.norm(q - a - t[:, None] * (b - a), axis=1) - r


def _grid(size, spacing, origin, direction) -> sitk.Image:
    grid = sitk.Image([int(s) for s in size], sitk.sitkUInt8)
    grid.SetSpacing([float(s) for s in spacing])
    grid.SetOrigin([float(v) for v in (origin if origin is not None else (-np.array(size) * spacing / 2))])
    if direction is not None:
        grid.SetDirection([float(v) for v in direction])
    return grid


def _slice_points(grid: sitk.Image, z: int) -> np.ndarray:
    """LPS coordinates of every voxel of slice z, in array (y, x) order."""
    y, x = np.mgrid[0 : grid.GetSize()[1], 0 : grid.GetSize()[0]]
    index = np.stack([x.ravel(), y.ravel(), np.full(x.size, z)], axis=1) * np.array(grid.GetSpacing())
    matrix = np.array(grid.GetDirection()).reshape(3, 3)
    return np.array(grid.GetOrigin()) + index @ matrix.T


def _as_image(array: np.ndarray, reference: sitk.Image) -> sitk.Image:
    image = sitk.GetImageFromArray(array)
    image.CopyInformation(reference)
    return image
