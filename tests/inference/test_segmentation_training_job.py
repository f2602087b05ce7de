"""The "Retrain segmentation" job: tiny synthetic hips with reference VOIs, the demo configuration cut
down to one epoch of a tiny network, run through the job machinery."""

import pytest

from inference.errors import InvalidRequest, TrainingInProgress
from inference.kinds import SEGMENTATION_TRAIN_JOB
from inference.models import ModelVersion
from inference.training.segmentation import segmentation_training_start
from jobs.models import Job
from jobs.registry import JobCancelled, JobContext, job_kind
from jobs.services import job_run

from model_helpers import TINY_STAGE, hip_cohort

Status = ModelVersion.Status


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture
def cohort(db, tmp_path):
    return hip_cohort(tmp_path, n=3)[0]


def start(cohort, owner, epochs=1):
    return segmentation_training_start(
        owner=owner,
        cohort=cohort,
        config_name="demo",
        epochs=epochs,
        stage_overrides=TINY_STAGE,
        randomised_cases=0,
    )


def test_training_creates_a_trained_version_with_checkpoints_and_their_sha256(cohort, pi, client):
    job = start(cohort, pi)
    version = ModelVersion.objects.get(job=job)
    assert version.status == Status.TRAINING
    assert version.split is not None and version.split.locked
    job_run(job_id=job.pk)
    job.refresh_from_db()
    version.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert version.status == Status.TRAINED
    assert {f.role for f in version.files.all()} == {"coarse", "fine"}
    assert all(len(f.sha256) == 64 and f.size_bytes > 0 for f in version.files.all())
    assert "dice_mean" in version.metrics["summary"]
    assert version.lineage["code_version"].startswith("vbnet-cascade-")
    assert [p["epoch"] for p in job.data["loss_curve"]] == [1, 2]
    client.force_login(pi)
    page = client.get(f"/models/versions/{version.pk}/")
    assert page.status_code == 200 and b"training-chart" in page.content and b'"val_dice"' in page.content


def test_a_second_training_is_refused_while_one_is_queued(cohort, pi):
    start(cohort, pi)
    with pytest.raises(TrainingInProgress):
        start(cohort, pi)


def test_it_refuses_to_train_without_reference_vois(db, tmp_path, pi):
    cohort, _ = hip_cohort(tmp_path, n=3, with_references=False, name="Unread")
    with pytest.raises(InvalidRequest, match="reference VOI"):
        start(cohort, pi)


def test_it_refuses_a_bad_configuration(cohort, pi):
    with pytest.raises(InvalidRequest):
        segmentation_training_start(owner=pi, cohort=cohort, config_name="huge")
    with pytest.raises(InvalidRequest):
        segmentation_training_start(owner=pi, cohort=cohort, stage_overrides={"depth": -1})
    assert not ModelVersion.objects.exists()


class WorkerKilled(BaseException):
    """Stands for the process dying: no handler of ours sees it (it is not an Exception)."""


def test_a_killed_training_resumes_from_its_last_checkpoint(cohort, pi, monkeypatch):
    job = start(cohort, pi, epochs=2)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)
    handler = job_kind(SEGMENTATION_TRAIN_JOB).handler
    first = JobContext(Job.objects.get(pk=job.pk))
    publish = first.publish

    def die_after_the_first_epoch(key, value):
        publish(key, value)
        raise WorkerKilled()

    monkeypatch.setattr(first, "publish", die_after_the_first_epoch)
    with pytest.raises(WorkerKilled):
        handler(first)
    assert ModelVersion.objects.get(job=job).status == Status.TRAINING

    second = JobContext(Job.objects.get(pk=job.pk))
    reported = []

    def record_the_epochs(key, value):
        if key == "loss_curve":
            reported.append(value[-1]["epoch"])
        JobContext.publish(second, key, value)

    monkeypatch.setattr(second, "publish", record_the_epochs)
    handler(second)
    assert reported[0] == 2, "the second attempt started again instead of continuing"
    assert "resuming" in Job.objects.get(pk=job.pk).log_tail
    version = ModelVersion.objects.get(job=job)
    assert version.status == Status.TRAINED
    assert [p["epoch"] for p in version.metrics["history"]] == [1, 2, 3, 4]


def test_a_cancelled_training_fails_its_version_and_frees_the_family(cohort, pi):
    job = start(cohort, pi)
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.RUNNING, cancel_requested=True
    )  # the owner cancels
    with pytest.raises(JobCancelled):
        job_kind(SEGMENTATION_TRAIN_JOB).handler(JobContext(Job.objects.get(pk=job.pk)))
    assert ModelVersion.objects.get(job=job).status == Status.FAILED
    start(cohort, pi)  # the family may train again
