"""Waiting for child jobs from inside a job, without ever deadlocking.

A parent job queues its children (they run in parallel on whatever workers serve their queue) and then
helps: any child still queued is claimed and run in the parent's own process. Claiming is the jobs app's
conditional UPDATE, so a child runs exactly once whoever gets it first. With a single worker process
(the embedded default) the parent simply runs them all; with many workers they share the work.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from django.utils import timezone

from jobs.models import Job
from jobs.registry import JobCancelled, JobContext
from jobs.services import STALE_AFTER, job_cancel, job_run

# How often the parent looks at children that other workers are running.
POLL_SECONDS = 1.0


def jobs_await(
    ctx: JobContext, job_ids: Iterable[int], *, percent_from: float, percent_to: float, what: str = "tasks"
) -> dict[int, Job]:
    """Run or wait for the jobs until every one has finished; returns them by id.

    The parent's progress bar moves from percent_from to percent_to as they finish. Cancelling the parent
    cancels the children it has not finished yet.
    """
    pending = list(job_ids)
    total = max(len(pending), 1)
    try:
        while True:
            jobs = Job.objects.in_bulk(pending)
            finished = {pk for pk, job in jobs.items() if job.is_finished or _is_stale(job)}
            done = len(finished)
            # The bar follows the children's own progress, not only their count, so a single long child
            # (a training) moves it too.
            fraction = sum(1.0 if pk in finished else job.progress / 100 for pk, job in jobs.items()) / total
            running = [job for pk, job in jobs.items() if pk not in finished and job.message]
            detail = f" ({running[0].message})" if len(pending) == 1 and running else ""
            ctx.progress(
                percent_from + (percent_to - percent_from) * fraction, f"{what}: {done}/{total} done{detail}"
            )
            queued = [job.pk for job in jobs.values() if job.status == Job.Status.QUEUED]
            if queued:
                # Does nothing if another worker claimed it meanwhile. While the child runs here, its
                # progress moves the parent's bar (and keeps the parent's heartbeat fresh).
                job_run(
                    job_id=queued[0],
                    on_progress=_follow(
                        ctx,
                        fraction - jobs[queued[0]].progress / 100 / total,
                        total,
                        percent_from,
                        percent_to,
                        what,
                        done,
                    ),
                )
                continue
            if done == len(pending):
                return jobs
            time.sleep(POLL_SECONDS)
    except JobCancelled:
        for job in Job.objects.filter(pk__in=pending).exclude(status__in=Job.FINISHED):
            job_cancel(job=job, by=ctx.owner)
        raise


def _follow(
    ctx: JobContext,
    fraction_before: float,
    total: int,
    percent_from: float,
    percent_to: float,
    what: str,
    done: int,
):
    """A progress listener for a child run in the parent's process: the parent's bar moves with it."""

    def on_progress(child_percent: float, message: str) -> None:
        fraction = fraction_before + child_percent / 100 / total
        detail = f" ({message})" if total == 1 and message else ""
        ctx.progress(
            percent_from + (percent_to - percent_from) * fraction, f"{what}: {done}/{total} done{detail}"
        )

    return on_progress


def _is_stale(job: Job) -> bool:
    # A child whose worker died without its job being failed yet: do not wait for it for ever.
    return (
        job.status == Job.Status.RUNNING
        and job.heartbeat_at is not None
        and job.heartbeat_at < timezone.now() - STALE_AFTER
    )
