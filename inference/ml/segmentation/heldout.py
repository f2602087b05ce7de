"""The held-out profile: synthetic CTs unlike anything the model trains on, scored in every segmentation
training run beside the in-distribution validation (issue 15).

A model that reaches Dice 0.97 on its own kind of image can fail on a routine clinical scan. The held-out
profile changes everything a site can change at once, deterministically: a scanner profile no training
cohort draws from (phantom's quasar16: soft kernel, blotchy noise, another calibration), a calibration
offset of +60 HU on even and -60 HU on odd cases, twice the noise, 5 mm slices with partial volume, and a
field of view cut to the hips (femoral heads to just below the lesser trochanters). Its Dice is not a
promise about real scans; a fall from the validation Dice is a warning that the model leans on appearance.
"""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from pathlib import Path

import SimpleITK as sitk

from inference.ml.segmentation.phantoms import phantom_cases
from phantom.case import CaseOptions, generate_case

HELDOUT_SCANNER = "quasar16"
HELDOUT_OFFSET_HU = 60.0  # +60 HU on even cases, -60 HU on odd ones
HELDOUT_NOISE_SCALE = 2.0
HELDOUT_SLICE_MM = 5.0
HELDOUT_REGION = "hips"  # the cut field of view
HELDOUT_SEED = 15_015  # a cohort seed of its own, so no held-out patient is a training patient of seed 0
# A version whose held-out Dice is more than this below its validation Dice is marked as leaning on appearance.
OOD_DICE_GAP_LIMIT = 0.05


@dataclass(frozen=True)
class HeldoutProfile:
    """How many held-out cases, and at what in-plane matrix (256: about 1.6 mm pixels, seconds per case)."""

    cases: int = 3
    matrix: int = 256
    seed: int = HELDOUT_SEED

    def __post_init__(self) -> None:
        if not (1 <= self.cases <= 50 and 32 <= self.matrix <= 512):
            raise ValueError(f"a held-out profile needs 1-50 cases and a matrix of 32-512, got {self}")

    def description(self) -> str:
        return (
            f"{self.cases} phantom cases, scanner {HELDOUT_SCANNER}, calibration +/-{HELDOUT_OFFSET_HU:g} HU, "
            f"noise x{HELDOUT_NOISE_SCALE:g}, {HELDOUT_SLICE_MM:g} mm slices, field of view cut to the hips"
        )


HELDOUT = HeldoutProfile()


def heldout_case_options(profile: HeldoutProfile, index: int) -> CaseOptions:
    return CaseOptions(
        matrix=profile.matrix,
        region=HELDOUT_REGION,
        slice_mm=HELDOUT_SLICE_MM,
        scanners=(HELDOUT_SCANNER,),
        exclusion="",
        readers=False,
        noise_scale=HELDOUT_NOISE_SCALE,
        hu_offset=HELDOUT_OFFSET_HU if index % 2 == 0 else -HELDOUT_OFFSET_HU,
        z_partial_volume=True,
    )


def heldout_cases(profile: HeldoutProfile, folder: str | Path) -> list[tuple[Path, Path]]:
    """(image, mask) NIfTI paths of the held-out cases, written into folder once (a resumed run reuses them)."""
    return phantom_cases(
        folder, "heldout", profile.cases, asdict(profile), lambda index: _heldout_case(profile, index)
    )


@functools.lru_cache(maxsize=16)
def _heldout_case(profile: HeldoutProfile, index: int) -> tuple[sitk.Image, sitk.Image]:
    """One held-out case, generated once per process (a second training in a worker reuses it)."""
    case = generate_case(seed=profile.seed, index=index, options=heldout_case_options(profile, index))
    return case.image, case.label


def heldout_verdict(validation_dice: float | None, heldout_dice: float | None) -> dict:
    """The held-out Dice's gap to the validation Dice, and whether it falls more than OOD_DICE_GAP_LIMIT
    below (None where either is missing: a run without validation cases cannot be judged)."""
    if validation_dice is None or heldout_dice is None:
        return {"dice_gap": None, "below_validation": None, "limit": OOD_DICE_GAP_LIMIT}
    gap = float(validation_dice) - float(heldout_dice)
    return {
        "dice_gap": round(gap, 6),
        "below_validation": gap > OOD_DICE_GAP_LIMIT,
        "limit": OOD_DICE_GAP_LIMIT,
    }
