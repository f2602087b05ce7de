"""Small CT-like volumes for tests (a module of its own: several folders have a conftest.py)."""

from pathlib import Path

import numpy as np


def write_test_volume(
    path: Path, size=(24, 20, 16), spacing=(1.5, 1.5, 2.0), origin=(-20.0, -15.0, 10.0), seed=0
):
    """A small CT-like int16 volume: air around a soft-tissue block holding two bright 'bones'."""
    import SimpleITK as sitk

    rng = np.random.default_rng(seed)
    nx, ny, nz = size
    array = np.full((nz, ny, nx), -1000, dtype=np.int16)
    array[:, ny // 5 : 4 * ny // 5, nx // 8 : 7 * nx // 8] = 40
    array[:, ny // 3 : 2 * ny // 3, nx // 5 : 2 * nx // 5] = 700
    array[:, ny // 3 : 2 * ny // 3, 3 * nx // 5 : 4 * nx // 5] = 700
    array = (array + rng.normal(0, 10, array.shape)).astype(np.int16)
    image = sitk.GetImageFromArray(array)
    image.SetSpacing(spacing)
    image.SetOrigin(origin)
    sitk.WriteImage(image, str(path))
    return path
