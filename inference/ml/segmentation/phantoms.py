"""Phantom cases a training run generates for itself (the held-out profile, the randomised training cases),
written once into a folder as NIfTI image and mask, and reused by a resumed run or a second run there.

The phantom is plain Python beside voi in platform/ (no Django, no app): these cases are synthetic.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import SimpleITK as sitk

Pair = tuple[Path, Path]


def phantom_cases(
    folder: str | Path,
    prefix: str,
    count: int,
    stamp: dict,
    make_case: Callable[[int], tuple[sitk.Image, sitk.Image]],
    before_each: Callable[[int], None] | None = None,
) -> list[Pair]:
    """(image, mask) paths of cases 0..count-1, made by make_case(index) unless folder already holds them for
    the same stamp (what made them: a profile, a seed, options). before_each(index) runs before each case is
    made (a training run's stop request raises there)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stamp_path = folder / f"{prefix}.json"
    pairs = [(folder / f"{prefix}{i}.nii.gz", folder / f"{prefix}{i}_mask.nii.gz") for i in range(count)]
    if (
        stamp_path.exists()
        and json.loads(stamp_path.read_text()) == stamp
        and all(p.exists() for pair in pairs for p in pair)
    ):
        return pairs
    stamp_path.unlink(missing_ok=True)  # a run stopped half-way leaves no stamp for half its cases
    for index, (image_path, mask_path) in enumerate(pairs):
        if before_each is not None:
            before_each(index)
        image, label = make_case(index)
        sitk.WriteImage(image, str(image_path), useCompression=True, compressionLevel=1)
        sitk.WriteImage(label, str(mask_path), useCompression=True, compressionLevel=1)
    stamp_path.write_text(json.dumps(stamp))
    return pairs
