"""PNG montage of a case: two axial slices (femoral heads, lesser trochanters) and a coronal slice through
the hip centres, with the reference VOI tinted (left femur red, right femur blue)."""

from pathlib import Path

import numpy as np
import SimpleITK as sitk
from PIL import Image

WINDOW_LEVEL, WINDOW_WIDTH = 250.0, 1400.0  # one window that shows fat, muscle and bone together
TINT = {1: (230, 60, 60), 2: (60, 120, 240)}
TINT_ALPHA = 0.35
PANEL_PX = 256


def _grey(hu: np.ndarray) -> np.ndarray:
    low = WINDOW_LEVEL - WINDOW_WIDTH / 2
    return (np.clip((hu - low) / WINDOW_WIDTH, 0, 1) * 255).astype(np.uint8)


def _panel(hu: np.ndarray, label: np.ndarray, aspect: float) -> Image.Image:
    rgb = np.repeat(_grey(hu)[..., None], 3, axis=2).astype(np.float32)
    for value, colour in TINT.items():
        where = label == value
        rgb[where] = rgb[where] * (1 - TINT_ALPHA) + np.array(colour) * TINT_ALPHA
    image = Image.fromarray(rgb.astype(np.uint8))
    height = max(1, int(round(PANEL_PX * hu.shape[0] * aspect / hu.shape[1])))
    return image.resize((PANEL_PX, height), Image.Resampling.BILINEAR)


def montage(
    image: sitk.Image, label: sitk.Image, *, head_z_index: int, trochanter_z_index: int, hip_y_index: int
) -> Image.Image:
    hu, lab = sitk.GetArrayViewFromImage(image), sitk.GetArrayViewFromImage(label)
    sx, sy, sz = image.GetSpacing()
    nz = hu.shape[0]
    panels = [
        _panel(hu[min(max(head_z_index, 0), nz - 1)], lab[min(max(head_z_index, 0), nz - 1)], sy / sx),
        _panel(
            hu[min(max(trochanter_z_index, 0), nz - 1)], lab[min(max(trochanter_z_index, 0), nz - 1)], sy / sx
        ),
        # Coronal: superior at the top, the patient's right on the viewer's left as radiologists read it.
        _panel(hu[::-1, hip_y_index, :], lab[::-1, hip_y_index, :], sz / sx),
    ]
    height = max(p.height for p in panels)
    sheet = Image.new("RGB", (sum(p.width for p in panels), height))
    x = 0
    for p in panels:
        sheet.paste(p, (x, (height - p.height) // 2))
        x += p.width
    return sheet


def write_preview(case, path: Path) -> None:
    """Save a case's montage as PNG; slice positions come from the case's own anatomy."""
    grid, left = case.grid, case.anatomy.femurs[0]
    to_z = lambda z: int(round((z - grid.origin[2]) / grid.spacing[2]))  # noqa: E731
    hip_y = int(round((left.head_centre[1] - grid.origin[1]) / grid.spacing[1]))
    sheet = montage(
        case.image,
        case.label,
        head_z_index=to_z(left.head_centre[2]),
        trochanter_z_index=to_z(left.voi_bottom_z + 8.0),
        hip_y_index=min(max(hip_y, 0), grid.shape[1] - 1),
    )
    sheet.save(path, optimize=True)
