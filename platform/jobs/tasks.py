from celery import shared_task

from .services import job_fail_stale, job_run


@shared_task(name="jobs.run_job", acks_late=True, reject_on_worker_lost=True)
def run_job(job_id: int) -> None:
    job_run(job_id=job_id)


@shared_task(name="jobs.fail_stale")
def fail_stale() -> int:
    return job_fail_stale()
