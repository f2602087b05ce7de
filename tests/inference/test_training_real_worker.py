"""A segmentation training on a real Celery worker whose process is killed mid-run: the broker redelivers
the task, the retried job finds its work folder and continues from the last finished epoch."""

import os
import signal
import sys

import pytest

from inference.models import ModelVersion
from inference.training.segmentation import segmentation_training_start
from jobs.models import Job

from model_helpers import TINY_STAGE, hip_cohort
from worker_fixtures import wait_for

pytestmark = [pytest.mark.services, pytest.mark.timeout(300)]


def worker_settings_read_media_root_from_the_environment() -> bool:
    """Whether a worker process started with MEDIA_ROOT in its environment stores files there (the test
    settings must honour it, or the worker cannot read the volumes this test imports)."""
    import subprocess

    from osteoscreen.embedded import ROOT, child_environment

    probe = "/tmp/osteoscreen-media-probe"
    env = child_environment(DJANGO_SETTINGS_MODULE="osteoscreen.settings.test", MEDIA_ROOT=probe)
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.MEDIA_ROOT)",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip() == probe


def test_a_killed_training_worker_resumes_from_its_checkpoint(celery_worker_factory, tmp_path, pi):
    if not worker_settings_read_media_root_from_the_environment():
        pytest.skip(
            "osteoscreen.settings.test ignores MEDIA_ROOT from the environment: a worker cannot read "
            "this test's files"
        )
    cohort, _ = hip_cohort(tmp_path, n=3)
    worker = celery_worker_factory()
    job = segmentation_training_start(
        owner=pi, cohort=cohort, epochs=4, stage_overrides=TINY_STAGE, randomised_cases=0
    )
    wait_for(lambda: len(Job.objects.get(pk=job.pk).data.get("loss_curve", [])) >= 2, timeout=150)
    for pid in worker.children():
        os.kill(pid, signal.SIGKILL)

    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=150)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.attempts == 2 and "resuming" in job.log_tail
    version = ModelVersion.objects.get(job=job)
    assert version.status == ModelVersion.Status.TRAINED
    assert [p["epoch"] for p in version.metrics["history"]] == list(range(1, 9))
