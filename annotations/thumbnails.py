"""The case page's axial and coronal thumbnails: the CT in a bone window, drawn to its physical aspect,
with the reference VOI blended in where the viewer may see it (never for blinded roles)."""

from __future__ import annotations

import io

import numpy as np
import SimpleITK as sitk
from PIL import Image

# A bone window that also shows the soft tissue around the hip.
THUMBNAIL_WINDOW = (-200.0, 1200.0)
# The label contract's colours as the viewer draws them: left orange, right blue.
VOI_COLOURS = {1: (255, 140, 0), 2: (0, 170, 255)}
VOI_ALPHA = 0.45
# The longer side of a thumbnail in pixels: enough to recognise the anatomy, small to send.
THUMBNAIL_SIZE = 256
PLANES = ("axial", "coronal")


def thumbnail_png(image: sitk.Image, labels: np.ndarray | None, *, plane: str) -> bytes:
    """A PNG of the plane through the VOI's centre (or the volume's middle), radiological convention:
    the patient's right on the screen's left, anterior (axial) or superior (coronal) at the top."""
    volume = sitk.GetArrayViewFromImage(image)  # [z, y, x] in LPS
    centre = _centre(labels if labels is not None and labels.any() else None, volume.shape)
    sx, sy, sz = image.GetSpacing()
    if plane == "axial":
        ct, mask, aspect = volume[centre[0]], _slice(labels, 0, centre[0]), sy / sx
    else:
        # Rows are z: LPS +z is superior, so the image is flipped to put the head at the top.
        ct, mask, aspect = volume[::-1, centre[1], :], _slice(labels, 1, centre[1]), sz / sx
        mask = mask[::-1] if mask is not None else None
    return _png(_blend(ct.astype(np.float32), mask), aspect)


def _centre(labels: np.ndarray | None, shape: tuple[int, ...]) -> tuple[int, int, int]:
    if labels is None:
        return shape[0] // 2, shape[1] // 2, shape[2] // 2
    z, y, x = (int(round(v)) for v in np.argwhere(labels > 0).mean(axis=0))
    return z, y, x


def _slice(labels: np.ndarray | None, axis: int, index: int) -> np.ndarray | None:
    return None if labels is None else np.take(labels, index, axis=axis)


def _blend(ct: np.ndarray, mask: np.ndarray | None) -> np.ndarray:
    low, high = THUMBNAIL_WINDOW
    grey = np.clip((ct - low) / (high - low) * 255.0, 0, 255)
    rgb = np.repeat(grey[..., None], 3, axis=2)
    if mask is not None:
        for label, colour in VOI_COLOURS.items():
            where = mask == label
            rgb[where] = (1 - VOI_ALPHA) * rgb[where] + VOI_ALPHA * np.array(colour, dtype=np.float32)
    return rgb.astype(np.uint8)


def _png(rgb: np.ndarray, aspect: float) -> bytes:
    rows, cols = rgb.shape[:2]
    height, width = rows * aspect, cols
    scale = THUMBNAIL_SIZE / max(height, width)
    picture = Image.fromarray(rgb).resize(
        (max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.BILINEAR
    )
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
