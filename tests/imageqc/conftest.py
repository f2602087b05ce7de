"""A small phantom cohort for the QC tests: clean cases and the phantom's exclusion cases (prosthesis,
incomplete scan), at 128 x 128 in-plane (about 3 mm pixels) so the whole set generates in a few seconds.
The phantom's reference VOIs stand in for a model's masks (a perfect model); the QC never reads the
phantom's ground truth otherwise."""

import os

import numpy as np
import pytest
import SimpleITK as sitk

os.environ.setdefault("OMP_NUM_THREADS", "1")

from phantom.case import CaseOptions, generate_case  # noqa: E402

MATRIX = 128


def cases_of(kind: str, n: int, seed: int = 31):
    options = CaseOptions(matrix=MATRIX, exclusion=kind, readers=False)
    return [generate_case(seed=seed, index=i, options=options) for i in range(n)]


def above_the_pelvis(seed: int = 32, index: int = 0) -> sitk.Image:
    """An upper-abdominal CT with no femur in it: an abdominal phantom cropped 20 mm above the iliac crest."""
    case = generate_case(
        seed=seed, index=index, options=CaseOptions(matrix=MATRIX, region="abdomen", readers=False)
    )
    first = int(np.ceil((case.anatomy.crest_z + 20.0 - case.grid.origin[2]) / case.grid.spacing[2]))
    return case.image[:, :, first:]


@pytest.fixture(scope="session")
def upper_abdomen():
    """A factory of upper-abdominal CTs (no femur in them)."""
    return above_the_pelvis


@pytest.fixture(scope="session")
def clean_cases():
    return cases_of("", 3)


@pytest.fixture(scope="session")
def prosthesis_cases():
    return cases_of("hip_replacement", 2)


@pytest.fixture(scope="session")
def incomplete_cases():
    return cases_of("incomplete_ct", 2)
