"""Fixtures for reading tests (and for the viewer's browser test).

- `make_assignment(reader=..., case=None, study_role="primary", size=(24, 20, 16))` creates a case (unless
  given one), a cohort holding it and an assignment of it to the reader, through the real services.
- `senior` is a reader in the "senior" group (the senior reader who reviews).
- `labelmap_for(case)` gives an all-background uint8 array [z, y, x] on the case grid;
  `raw_upload(labels)` wraps it as the viewer sends it (gzip, ".raw.gz").
"""

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile


@pytest.fixture
def senior(db):
    from accounts.roles import Role
    from accounts.services import user_create_with_role

    return user_create_with_role(username="senior1", password="pw", role=Role.READER, senior=True)


@pytest.fixture
def make_assignment(db, make_case, coordinator):
    from cases.models import Cohort

    from annotations.services import assignment_create

    def make(*, reader, case=None, study_role="primary", size=(24, 20, 16), cohort=None):
        case = case or make_case(size=size)
        cohort = cohort or Cohort.objects.get_or_create(name="Reading tests")[0]
        cohort.cases.add(case)
        return assignment_create(
            case=case, reader=reader, cohort=cohort, created_by=coordinator, study_role=study_role
        )

    return make


def labelmap_for(case) -> np.ndarray:
    nx, ny, nz = case.size
    return np.zeros((nz, ny, nx), np.uint8)


def raw_upload(labels: np.ndarray, name: str = "labelmap.raw.gz") -> SimpleUploadedFile:
    from annotations.labelmaps import raw_gzip_bytes

    return SimpleUploadedFile(name, raw_gzip_bytes(labels), content_type="application/octet-stream")


def painted(case, *, left: int = 5, right: int = 0) -> np.ndarray:
    """A labelmap with `left` voxels of label 1 and `right` voxels of label 2 in the first slice."""
    labels = labelmap_for(case)
    flat = labels.reshape(-1)
    flat[:left] = 1
    flat[left : left + right] = 2
    return labels
