"""Jobs run on a real Celery worker process through the real broker."""

import os
import signal

import pytest

from jobs.models import Job
from jobs.services import job_start

from selftest_job import SELFTEST_JOB
from worker_fixtures import wait_for

pytestmark = [pytest.mark.services, pytest.mark.timeout(240)]


def test_a_worker_runs_a_job_to_the_end_reporting_progress(celery_worker_factory, pi):
    celery_worker_factory()
    job = job_start(kind=SELFTEST_JOB, owner=pi, params={"steps": 5, "step_seconds": 0.2})
    seen_progress = set()

    def finished():
        job.refresh_from_db()
        seen_progress.add(round(job.progress))
        return job.is_finished

    wait_for(finished)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result["steps"] == 5
    assert job.progress == 100
    assert any(0 < p < 100 for p in seen_progress), seen_progress
    assert "finished 5 steps" in job.log_tail


def test_a_job_whose_worker_process_is_killed_does_not_stay_running(celery_worker_factory, pi):
    worker = celery_worker_factory()
    job = job_start(kind=SELFTEST_JOB, owner=pi, params={"steps": 40, "step_seconds": 0.1})
    wait_for(lambda: Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, progress__gt=0).exists())
    children = worker.children()
    assert children, "the prefork worker should run the job in a child process"
    for pid in children:
        os.kill(pid, signal.SIGKILL)

    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=120)
    job.refresh_from_db()
    # The killed attempt is either retried to success or failed with a reason; never left running.
    assert job.status in (Job.Status.SUCCEEDED, Job.Status.FAILED)
    assert job.attempts == 2
    if job.status == Job.Status.FAILED:
        assert "worker" in job.error


def test_a_job_left_running_by_a_killed_worker_is_recovered_by_the_next_worker(celery_worker_factory, pi):
    first = celery_worker_factory("first")
    job = job_start(kind=SELFTEST_JOB, owner=pi, params={"steps": 30, "step_seconds": 0.1})
    wait_for(lambda: Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING, progress__gt=0).exists())
    os.killpg(first.process.pid, signal.SIGKILL)  # the whole worker, main process and children
    first.process.wait()
    assert Job.objects.get(pk=job.pk).status == Job.Status.RUNNING

    celery_worker_factory("first")  # the same worker name restarts on this host
    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished, timeout=120)
    job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.attempts == 2


def test_the_owner_cancels_a_running_job(celery_worker_factory, pi, api_client):
    celery_worker_factory()
    job = job_start(kind=SELFTEST_JOB, owner=pi, params={"steps": 200, "step_seconds": 0.1})
    wait_for(lambda: Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).exists())
    api_client.force_authenticate(pi)
    assert api_client.post(f"/api/jobs/{job.pk}/cancel/").status_code == 200
    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished)
    assert Job.objects.get(pk=job.pk).status == Job.Status.CANCELLED


def test_a_job_started_while_the_broker_is_down_runs_when_a_worker_starts(
    celery_worker_factory, pi, tmp_path
):
    from osteoscreen.celery_app import app

    working_url = app.conf.broker_url
    app.conf.broker_url = f"redis+socket://{tmp_path / 'no-broker.sock'}"
    app._after_fork()
    try:
        job = job_start(kind=SELFTEST_JOB, owner=pi, params={"steps": 2, "step_seconds": 0.05})
    finally:
        app.conf.broker_url = working_url
        app._after_fork()
    assert Job.objects.get(pk=job.pk).status == Job.Status.QUEUED

    celery_worker_factory()  # it re-sends the queued jobs when it starts
    wait_for(lambda: Job.objects.get(pk=job.pk).is_finished)
    assert Job.objects.get(pk=job.pk).status == Job.Status.SUCCEEDED
