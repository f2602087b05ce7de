import pytest


@pytest.fixture(autouse=True, scope="session")
def _selftest_job_registered():
    # The tests' own job kind, registered for the test process (a test's worker imports it with -I).
    import selftest_job  # noqa: F401
