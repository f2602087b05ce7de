import pytest

from phantom.case import CaseOptions
from phantom.cohort import CohortConfig


@pytest.mark.parametrize(
    "kwargs",
    [
        {"matrix": 8},
        {"region": "knee"},
        {"slices": 0},
        {"slice_mm": 0.0},
        {"scanners": ("nope",)},
        {"scanners": ()},
    ],
)
def test_it_rejects_bad_case_options(kwargs):
    with pytest.raises(ValueError):
        CaseOptions(**kwargs)


def test_it_rejects_a_cohort_without_cases(tmp_path):
    with pytest.raises(ValueError):
        CohortConfig(out=tmp_path, cases=0)
