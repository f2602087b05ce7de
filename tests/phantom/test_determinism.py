import hashlib

import numpy as np
import SimpleITK as sitk

from phantom.case import CaseOptions, generate_case
from phantom.cohort import CohortConfig, write_cohort

TINY = CaseOptions(matrix=64, region="hips", exclusion_fraction=0.5)


def _digest(folder):
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_the_same_seed_writes_the_same_bytes(tmp_path):
    for name in ("a", "b"):
        write_cohort(
            CohortConfig(out=tmp_path / name, cases=2, seed=7, options=TINY, dicom=True, preview=True)
        )
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")


def test_another_seed_gives_another_case():
    first = generate_case(seed=1, index=0, options=TINY)
    second = generate_case(seed=2, index=0, options=TINY)
    assert not np.array_equal(
        sitk.GetArrayViewFromImage(first.image), sitk.GetArrayViewFromImage(second.image)
    )
    assert first.metadata != second.metadata


def test_a_case_does_not_depend_on_the_cohort_around_it():
    alone = generate_case(seed=3, index=4, options=TINY)
    again = generate_case(seed=3, index=4, options=TINY)
    assert (
        sitk.GetArrayViewFromImage(alone.image).tobytes() == sitk.GetArrayViewFromImage(again.image).tobytes()
    )
    assert alone.metadata == again.metadata
