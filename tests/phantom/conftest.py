"""Small phantom cases shared by the phantom tests (generated once per session: they cost seconds)."""

import os

import pytest

os.environ.setdefault("OMP_NUM_THREADS", "1")

from phantom.case import CaseOptions, generate_case  # noqa: E402


@pytest.fixture(scope="session")
def hip_cases():
    """Five included cases over the hips at 256 x 256 (1.4-1.8 mm pixels): enough for HU and masks."""
    options = CaseOptions(matrix=256, region="hips", exclusion="")
    return [generate_case(seed=21, index=i, options=options) for i in range(5)]


@pytest.fixture(scope="session")
def fine_case():
    """One case at the real 512 matrix over the hips, for voxel-level properties (reader Dice)."""
    return generate_case(seed=22, index=0, options=CaseOptions(matrix=512, region="hips", exclusion=""))
