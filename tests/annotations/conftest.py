"""Fixtures for reading tests (and for the viewer's browser test).

- `make_assignment(reader=..., case=None, study_role="primary", size=(24, 20, 16))` creates a case (unless
  given one), a cohort holding it and an assignment of it to the reader, through the real services.
- `senior` is a reader in the "senior" group (the senior reader who reviews).
- `client_of_reader` is the API client signed in as `reader`.
- tests/reading_helpers.py: `labelmap_for(case)`, `painted(case, left=, right=)`, `raw_upload(labels)`.
"""

from pathlib import Path

import pytest


@pytest.fixture
def client_of_reader(api_client, reader):
    api_client.force_authenticate(reader)
    return api_client


@pytest.fixture
def senior(db):
    from accounts.roles import Role
    from accounts.services import user_create_with_role

    return user_create_with_role(username="senior1", password="pw", role=Role.READER, senior=True)


@pytest.fixture
def make_assignment(db, make_case, coordinator):
    from annotations.services import assignment_create
    from cases.models import Cohort

    def make(*, reader, case=None, study_role="primary", size=(24, 20, 16), cohort=None):
        case = case or make_case(size=size)
        cohort = cohort or Cohort.objects.get_or_create(name="Reading tests")[0]
        cohort.cases.add(case)
        return assignment_create(
            case=case, reader=reader, cohort=cohort, created_by=coordinator, study_role=study_role
        )

    return make


# The viewer's bench build (npm run build:bench): the production viewer plus the timings and the page handle
# (window.__viewerTimings, window.__viewer) that the browser tests which drive the editor read.
VIEWER_BENCH_BUILD_DIR = Path(__file__).resolve().parents[2] / "frontend" / "dist-bench"


@pytest.fixture
def viewer_bench_build(settings):
    """Serves the viewer's bench build in place of the production one for this test (skips if unbuilt)."""
    if not (VIEWER_BENCH_BUILD_DIR / "viewer" / "viewer.js").exists():
        pytest.skip("the viewer's bench build is missing (cd frontend && npm ci && npm run build:bench)")
    settings.STATICFILES_DIRS = [VIEWER_BENCH_BUILD_DIR, *settings.STATICFILES_DIRS]
