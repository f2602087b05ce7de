"""The life of a model version: training -> trained (files with SHA-256) -> active -> retired."""

import hashlib

import pytest
from django.db import IntegrityError, transaction

from inference.errors import NotAllowed, TrainingInProgress, WrongStatus
from inference.models import ModelVersion
from inference.training.versions import (
    model_version_create,
    model_version_fail,
    model_version_mark_trained,
    model_version_promote,
    model_version_retire,
)

Status = ModelVersion.Status


def trained_version(tmp_path, *, family="classifier", owner=None, split=None, content=b"weights"):
    version = model_version_create(family=family, owner=owner, split=split)
    path = tmp_path / f"{family}-{version.number}.joblib"
    path.write_bytes(content + str(version.number).encode())
    return model_version_mark_trained(version=version, metrics={"auc": 0.9}, files={"pipeline": path})


def test_a_new_version_is_training_and_numbered_after_the_last(db):
    first = model_version_create(family="classifier")
    model_version_fail(version=first, reason="test")
    second = model_version_create(family="classifier")
    assert (first.number, second.number) == (1, 2)
    assert second.status == Status.TRAINING


def test_it_refuses_a_second_training_of_the_same_family(db):
    model_version_create(family="segmentation")
    with pytest.raises(TrainingInProgress):
        model_version_create(family="segmentation")
    model_version_create(family="classifier")  # another family trains beside it


def test_the_database_itself_refuses_two_trainings_of_a_family(db):
    model_version_create(family="segmentation")
    with pytest.raises(IntegrityError), transaction.atomic():
        ModelVersion.objects.create(family="segmentation", number=99, status=Status.TRAINING)


def test_a_trained_version_keeps_its_files_with_their_sha256(db, tmp_path):
    version = trained_version(tmp_path, content=b"some weights")
    stored = version.files.get(role="pipeline")
    content = stored.file.read()
    assert stored.sha256 == hashlib.sha256(content).hexdigest()
    assert stored.size_bytes == len(content)
    assert version.status == Status.TRAINED and version.metrics == {"auc": 0.9}


def test_a_version_locks_the_split_it_used(db, make_case):
    from cases.services import SplitParams, cohort_create, split_create

    cohort = cohort_create(name="c", cases=[make_case() for _ in range(3)])
    split = split_create(cohort=cohort, params=SplitParams(test_fraction=0.0))
    model_version_create(family="classifier", split=split)
    split.refresh_from_db()
    assert split.locked


def test_only_a_pi_can_promote(db, tmp_path, coordinator, admin_user):
    version = trained_version(tmp_path)
    for user in (coordinator, admin_user):
        with pytest.raises(NotAllowed):
            model_version_promote(version=version, actor=user)
    version.refresh_from_db()
    assert version.status == Status.TRAINED


def test_promoting_retires_the_previous_active_version(db, tmp_path, pi):
    first = trained_version(tmp_path)
    model_version_promote(version=first, actor=pi)
    second = model_version_promote(version=trained_version(tmp_path), actor=pi)
    first.refresh_from_db()
    assert (first.status, second.status) == (Status.RETIRED, Status.ACTIVE)
    assert ModelVersion.objects.filter(family="classifier", status=Status.ACTIVE).count() == 1
    assert second.promoted_by == pi and second.promoted_at is not None


def test_a_retired_version_can_be_promoted_again_and_nothing_is_overwritten(db, tmp_path, pi):
    first, second = trained_version(tmp_path), trained_version(tmp_path)
    files_before = {v.pk: v.files.get().sha256 for v in (first, second)}
    model_version_promote(version=first, actor=pi)
    model_version_promote(version=second, actor=pi)
    model_version_promote(version=first, actor=pi)
    assert {v.pk: v.files.get().sha256 for v in (first, second)} == files_before
    assert ModelVersion.objects.get(status=Status.ACTIVE) == first


def test_a_version_still_training_or_failed_cannot_be_promoted(db, pi):
    training = model_version_create(family="classifier")
    with pytest.raises(WrongStatus):
        model_version_promote(version=training, actor=pi)
    model_version_fail(version=training, reason="broken")
    with pytest.raises(WrongStatus):
        model_version_promote(version=training, actor=pi)


def test_a_version_without_its_files_cannot_serve(db, tmp_path, pi):
    version = model_version_create(family="segmentation")
    model_version_mark_trained(version=version, metrics={}, files={})
    with pytest.raises(WrongStatus, match="coarse, fine"):
        model_version_promote(version=version, actor=pi)


def test_retiring_the_active_version_leaves_the_family_without_one(db, tmp_path, pi):
    version = trained_version(tmp_path)
    model_version_promote(version=version, actor=pi)
    model_version_retire(version=version, actor=pi)
    assert not ModelVersion.objects.filter(status=Status.ACTIVE).exists()
