"""Tiny cascade configurations and quick synthetic hip cases for tests of segmentation training."""

from pathlib import Path

import SimpleITK as sitk

from inference.ml.segmentation import SegmentationConfig, StageConfig
from inference.ml.segmentation.synthetic import synthetic_hip

SMALL_SIZE, SMALL_SPACING = (40, 34, 32), (9.0, 9.0, 10.0)


def tiny_segmentation_config(*, epochs: int = 1, patches_per_case: int = 2, **fields) -> SegmentationConfig:
    """A cascade that trains in a second: 8 mm coarse, 4 mm fine, width 4, depth 2, 16^3 patches."""

    def stage(spacing):
        return StageConfig(
            spacing_mm=spacing,
            patch_size=(16, 16, 16),
            base_width=4,
            depth=2,
            epochs=epochs,
            patches_per_case=patches_per_case,
            batch_size=2,
            margin_mm=8.0,
        )

    return SegmentationConfig(name="tiny", coarse=stage(8.0), fine=stage(4.0), **fields)


def write_synthetic_hips(folder: Path, count: int) -> list[tuple[Path, Path]]:
    """(image, mask) NIfTI paths of `count` small synthetic hips (seeds 0..count-1)."""
    pairs = []
    for seed in range(count):
        image, mask = synthetic_hip(size=SMALL_SIZE, spacing=SMALL_SPACING, seed=seed)
        pairs.append((folder / f"ct{seed}.nii.gz", folder / f"mask{seed}.nii.gz"))
        sitk.WriteImage(image, str(pairs[-1][0]))
        sitk.WriteImage(mask, str(pairs[-1][1]))
    return pairs
