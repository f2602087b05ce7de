"""Fixtures shared by every test: users per role, API client, temporary media, small cases, and the
service check that makes CI fail loudly when PostgreSQL or Redis is missing."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"
# The real-worker fixtures (celery_worker_factory), for tests/jobs and tests/inference alike.
pytest_plugins = ["worker_fixtures"]


def pytest_report_header(config):
    database = os.environ.get("DATABASE_URL", "sqlite (embedded default)")
    broker = os.environ.get("CELERY_BROKER_URL", "embedded broker")
    lines = [f"osteoscreen: database={database.split('@')[-1]} broker={broker.split('@')[-1]}"]
    if not IN_CI and "DATABASE_URL" not in os.environ:
        lines.append(
            "NOTICE: no DATABASE_URL: tests run on SQLite and the bundled broker (CI uses PostgreSQL + Redis)"
        )
    return lines


def pytest_configure(config):
    if IN_CI:
        # CI must exercise the real services; falling back silently would hide a broken deployment.
        url = os.environ.get("DATABASE_URL", "")
        if not url.startswith(("postgres://", "postgresql://")):
            pytest.exit(
                f"CI=true but DATABASE_URL is {url!r}: the tests must run on PostgreSQL", returncode=3
            )
        if not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"):
            pytest.exit("CI=true but CELERY_BROKER_URL is not a redis:// URL", returncode=3)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    Path(settings.MEDIA_ROOT).mkdir()
    return settings.MEDIA_ROOT


def _user(django_user_model, username, role, **kw):
    from accounts.roles import Role
    from accounts.services import user_create_with_role

    return user_create_with_role(username=username, password="pw", role=Role(role), **kw)


@pytest.fixture
def reader(db, django_user_model):
    return _user(django_user_model, "reader1", "reader")


@pytest.fixture
def reader2(db, django_user_model):
    return _user(django_user_model, "reader2", "reader")


@pytest.fixture
def coordinator(db, django_user_model):
    return _user(django_user_model, "coordinator", "coordinator")


@pytest.fixture
def pi(db, django_user_model):
    return _user(django_user_model, "pi", "pi")


@pytest.fixture
def admin_user(db, django_user_model):
    return _user(django_user_model, "admin", "admin")


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def make_case(db, tmp_path):
    """Creates a Patient + Case through the real import service, with a small volume on disk."""
    from cases.services import case_import

    from volumes import write_test_volume

    counter = {"n": 0}

    def make(study_id=None, size=(24, 20, 16), seed=None, **metadata):
        counter["n"] += 1
        n = counter["n"]
        path = write_test_volume(
            tmp_path / f"case{n}.nii.gz", size=size, seed=seed if seed is not None else n
        )
        sex = metadata.pop("sex", "F")
        birth_year = metadata.pop("birth_year", 1955)
        outcome = case_import(
            path=path, study_id=study_id or f"T-{n:04d}", sex=sex, birth_year=birth_year, metadata=metadata
        )
        return outcome.case

    return make
