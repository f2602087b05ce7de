"""Randomised phantom cases mixed into segmentation training: domain randomisation (issue 15).

A model that has seen one look learns that look: the phantom's study appearance puts the femur at the same
HU, sharpness and noise in every case, and a routine clinical scan breaks all three. SynthSeg (Billot B et
al., Med Image Anal 2023;86:102789) showed that training on images whose every appearance parameter is drawn
at random makes a segmenter that holds on real scans of any contrast and resolution. These cases draw each
tissue's HU, the kernel, noise, slice and pixel size, field of view, arms, contrast, metal, body size and the
femur's shape per case (phantom/appearance.py), with an uncalibrated per-case HU offset and gain on top.

The cases come from a cohort seed of their own, and never from the held-out profile's scanner, so the
held-out score stays a test of something the model has not seen.
"""

from __future__ import annotations

from pathlib import Path

import SimpleITK as sitk

from inference.ml.segmentation.heldout import HELDOUT_SCANNER
from inference.ml.segmentation.phantoms import phantom_cases
from phantom.case import CaseOptions, generate_case

RANDOMISED_SEED = 15_016  # not the held-out profile's seed, nor a demo or test cohort's


def randomised_case_options(matrix: int) -> CaseOptions:
    options = CaseOptions(
        matrix=matrix, appearance="randomised", calibration="spread", exclusion="", readers=False
    )
    if HELDOUT_SCANNER in options.scanners:  # the held-out scanner stays unseen
        raise ValueError(f"randomised training cases must not draw the held-out scanner {HELDOUT_SCANNER}")
    return options


def randomised_cases(
    count: int, matrix: int, folder: str | Path, *, seed: int = 0, before_each=None
) -> list[tuple[Path, Path]]:
    """(image, mask) NIfTI paths of `count` randomised phantom cases at most `matrix` pixels across, written
    into folder once; the run's seed picks the patients (seed 0 and seed 1 train on different ones)."""
    cohort_seed = RANDOMISED_SEED + seed
    options = randomised_case_options(matrix)

    def make_case(index: int) -> tuple[sitk.Image, sitk.Image]:
        case = generate_case(seed=cohort_seed, index=index, options=options)
        return case.image, case.label

    stamp = {"count": count, "matrix": matrix, "seed": cohort_seed, "appearance": options.appearance}
    return phantom_cases(folder, "randomised", count, stamp, make_case, before_each)
