"""Helpers for reading tests: labelmaps on a case grid and uploads as the viewer sends them."""

import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile


def labelmap_for(case) -> np.ndarray:
    nx, ny, nz = case.size
    return np.zeros((nz, ny, nx), np.uint8)


def raw_upload(labels: np.ndarray, name: str = "labelmap.raw.gz") -> SimpleUploadedFile:
    from annotations.labelmaps import raw_gzip_bytes

    return SimpleUploadedFile(name, raw_gzip_bytes(labels), content_type="application/octet-stream")


def painted(case, *, left: int = 5, right: int = 0) -> np.ndarray:
    """A labelmap with `left` voxels of label 1 and `right` voxels of label 2 in the first slice."""
    labels = labelmap_for(case)
    flat = labels.reshape(-1)
    flat[:left] = 1
    flat[left : left + right] = 2
    return labels
