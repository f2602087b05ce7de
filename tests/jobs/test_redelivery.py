"""A message delivered again for a running job: an orphan (its runner died) is retried, a duplicate
(its runner lives, e.g. after a broker visibility timeout shorter than the job) is ignored."""

import os
import socket
import subprocess
from datetime import timedelta

from django.utils import timezone

from jobs.models import Job
from jobs.services import job_claim

from selftest_job import SELFTEST_JOB


def running_job(worker: str) -> Job:
    return Job.objects.create(
        kind=SELFTEST_JOB,
        status=Job.Status.RUNNING,
        worker=worker,
        attempts=1,
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
    )


def test_a_duplicate_delivery_of_a_job_whose_runner_lives_is_ignored(db):
    job = running_job(f"{socket.gethostname()}:{os.getppid()}:{os.getpid()}")
    assert job_claim(job_id=job.pk) is None
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING and job.attempts == 1


def test_a_redelivered_job_whose_runner_died_is_taken_over(db):
    dead = subprocess.Popen(["true"])
    dead.wait()
    job = running_job(f"{socket.gethostname()}:{os.getppid()}:{dead.pid}")
    claimed = job_claim(job_id=job.pk)
    assert claimed is not None and claimed.attempts == 2


def test_a_running_job_on_another_host_is_taken_over_only_when_its_heartbeat_is_stale(db):
    job = running_job("elsewhere:1:2")
    assert job_claim(job_id=job.pk) is None
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(hours=2))
    assert job_claim(job_id=job.pk) is not None
