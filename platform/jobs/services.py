"""Starting, claiming, finishing and cancelling jobs.

A task claims its job by a conditional UPDATE (queued -> running): if no row changed, another worker
has it or it was cancelled. Tasks are acks_late and reject-on-worker-lost, so a killed worker's task is
redelivered: the redelivered task finds its job still "running" with a stale heartbeat, and either
retries it (attempts left) or marks it failed. A job can therefore never stay "running" for ever.
"""

import logging
import os
import socket
import traceback
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import Job
from .registry import JobCancelled, JobContext, job_kind
from .titles import user_error

log = logging.getLogger(__name__)
Status = Job.Status


@transaction.atomic
def job_start(*, kind: str, owner: Any = None, params: dict | None = None) -> Job:
    spec = job_kind(kind)
    job = Job.objects.create(
        kind=kind,
        queue=spec.queue,
        owner=owner if getattr(owner, "is_authenticated", False) else None,
        params=params or {},
    )
    transaction.on_commit(lambda: _enqueue(job.pk, spec.queue, spec.time_limit))
    return job


def _enqueue(job_id: int, queue: str, time_limit: int) -> None:
    """Sends the job's task. If the broker is down the job stays queued: every worker re-sends the queued
    jobs when it starts (job_requeue_waiting), and a duplicate message is harmless because the claim is
    a conditional UPDATE."""
    from .tasks import run_job

    try:
        run_job.apply_async(
            args=[job_id], queue=queue, time_limit=time_limit + 60, soft_time_limit=time_limit, retry=False
        )
    except Exception as exc:  # noqa: BLE001 - any broker failure leaves the job safely queued
        log.warning(
            "job %s stays queued: the broker is unreachable (%s); a starting worker will send it", job_id, exc
        )


def job_requeue_waiting() -> list[int]:
    """Re-sends every queued job (run when a worker starts): a message lost with a restarted broker, or
    never sent while it was down, must not leave a job queued for ever."""
    waiting = list(Job.objects.filter(status=Status.QUEUED, cancel_requested=False).values_list("pk", "kind"))
    for job_id, kind in waiting:
        spec = job_kind(kind)
        _enqueue(job_id, spec.queue, spec.time_limit)
    return [job_id for job_id, _ in waiting]


def worker_identity() -> str:
    """host:main-pid:child-pid: the Celery main process and the pool child that runs the task."""
    return f"{socket.gethostname()}:{os.getppid()}:{os.getpid()}"


def _previous_runner_is_dead(job: Job) -> bool:
    """Whether the process that last ran `job` is gone. On this host the pid says; on another host only a
    silent heartbeat does. A live runner means the message is a duplicate (a broker visibility timeout
    shorter than the job), not an orphan, and the job must not run twice."""
    host, _, pids = job.worker.partition(":")
    child = pids.rpartition(":")[2]
    if host == socket.gethostname() and child.isdigit():
        return not _process_alive(int(child))
    return job.heartbeat_at is None or timezone.now() - job.heartbeat_at > STALE_AFTER


def job_claim(*, job_id: int) -> Job | None:
    """queued -> running for exactly one worker; a redelivered job whose worker died is reclaimed once."""
    now = timezone.now()
    worker = worker_identity()
    claimed = Job.objects.filter(pk=job_id, status=Status.QUEUED, cancel_requested=False).update(
        status=Status.RUNNING, started_at=now, heartbeat_at=now, worker=worker, attempts=F("attempts") + 1
    )
    if claimed:
        return Job.objects.get(pk=job_id)
    return _reclaim_orphan(job_id, worker)


def _reclaim_orphan(job_id: int, worker: str) -> Job | None:
    job = Job.objects.filter(pk=job_id).first()
    if job is None or job.status != Status.RUNNING:
        return None
    # A redelivered running job is an orphan when its runner died (acks_late + reject_on_worker_lost):
    # retry it while attempts remain, else fail it. If its runner lives, this delivery is a duplicate.
    if not _previous_runner_is_dead(job):
        log.warning("job %s is still running on %s; ignoring a duplicate delivery", job.pk, job.worker)
        return None
    if job.attempts >= job_kind(job.kind).max_attempts:
        job_finish(job=job, status=Status.FAILED, error="the worker running this job died; no attempts left")
        return None
    reclaimed = Job.objects.filter(pk=job_id, status=Status.RUNNING, attempts=job.attempts).update(
        heartbeat_at=timezone.now(),
        worker=worker,
        attempts=F("attempts") + 1,
        message="restarted after a worker was lost",
    )
    return Job.objects.get(pk=job_id) if reclaimed else None


def job_finish(*, job: Job, status: str, result: dict | None = None, error: str = "") -> None:
    fields: dict[str, Any] = {"status": status, "finished_at": timezone.now(), "error": error[-4000:]}
    if status == Status.SUCCEEDED:
        fields.update(progress=100.0, result=result or {})
    Job.objects.filter(pk=job.pk, status__in=[Status.RUNNING, Status.QUEUED]).update(**fields)


def job_run(*, job_id: int, on_progress: Callable[[float, str], None] | None = None) -> None:
    """The body of the Celery task: claim, run the handler, record the outcome. A parent job running its
    child in its own process passes on_progress, so its own bar (and heartbeat) follows the child's."""
    job = job_claim(job_id=job_id)
    if job is None:
        return
    context = JobContext(job, on_progress=on_progress)
    try:
        result = job_kind(job.kind).handler(context)
    except JobCancelled:
        job_finish(job=job, status=Status.CANCELLED, error="cancelled by its owner")
    except Exception as exc:  # noqa: BLE001 - any failure of a handler is the job's failure
        log.exception("job %s failed", job.pk)
        # The user reads a plain sentence; the traceback goes to the log and to the admin's job page.
        Job.objects.filter(pk=job.pk).update(
            data={**context.job.data, "traceback": traceback.format_exc()[-8000:]}
        )
        job_finish(job=job, status=Status.FAILED, error=user_error(exc))
    else:
        job_finish(job=job, status=Status.SUCCEEDED, result=result or {})


@transaction.atomic
def job_cancel(*, job: Job, by: Any = None) -> Job:
    """A queued job is cancelled at once; a running one stops at its next progress report."""
    Job.objects.filter(pk=job.pk, status=Status.QUEUED).update(
        status=Status.CANCELLED,
        cancel_requested=True,
        finished_at=timezone.now(),
        error="cancelled before it started",
    )
    Job.objects.filter(pk=job.pk, status=Status.RUNNING).update(
        cancel_requested=True, message="cancelling..."
    )
    job.refresh_from_db()
    return job


# A running job reports at least this often; one silent for longer on a dead worker is failed by
# job_fail_stale (run periodically by beat, and by the health check).
STALE_AFTER = timedelta(minutes=30)


def job_fail_stale(*, older_than: timedelta = STALE_AFTER) -> int:
    cutoff = timezone.now() - older_than
    return Job.objects.filter(status=Status.RUNNING, heartbeat_at__lt=cutoff).update(
        status=Status.FAILED,
        finished_at=timezone.now(),
        error="no progress report for too long; the worker was lost",
    )


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def job_recover_orphans_of_host(*, hostname: str | None = None) -> list[int]:
    """Run when a worker starts: jobs left "running" by a dead worker process on this host are retried
    (attempts left) or failed, instead of waiting for the broker's visibility timeout."""
    hostname = hostname or socket.gethostname()
    recovered = []
    for job in Job.objects.filter(status=Status.RUNNING, worker__startswith=f"{hostname}:"):
        main_pid = job.worker.split(":")[1]
        if main_pid.isdigit() and _process_alive(int(main_pid)):
            continue
        if job.attempts >= job_kind(job.kind).max_attempts:
            job_finish(
                job=job, status=Status.FAILED, error="the worker running this job died; no attempts left"
            )
        elif Job.objects.filter(pk=job.pk, status=Status.RUNNING, worker=job.worker).update(
            status=Status.QUEUED, message="requeued after its worker died"
        ):
            spec = job_kind(job.kind)
            _enqueue(job.pk, spec.queue, spec.time_limit)
        recovered.append(job.pk)
    return recovered


def job_release_of_stopped_workers(*, main_pids: list[int], hostname: str | None = None) -> list[int]:
    """Run by whoever stopped the workers (run_platform): jobs their cancelled tasks left "running" go back
    to the queue for the next worker, without spending an attempt: the job did not fail, it was stopped.
    The stopped workers' main pids must be dead, so that no one still runs these jobs."""
    hostname = hostname or socket.gethostname()
    released = []
    for pid in main_pids:
        if _process_alive(pid):
            raise RuntimeError(f"worker {pid} still runs; its jobs cannot be released")
        running = Job.objects.filter(status=Status.RUNNING, worker__startswith=f"{hostname}:{pid}:")
        for job in running:
            if Job.objects.filter(pk=job.pk, status=Status.RUNNING, worker=job.worker).update(
                status=Status.QUEUED,
                worker="",
                attempts=F("attempts") - 1,
                message="released when its worker was stopped; the next worker runs it",
            ):
                spec = job_kind(job.kind)
                _enqueue(job.pk, spec.queue, spec.time_limit)
                released.append(job.pk)
    return released
