"""Worker start-up: recover jobs that a dead worker process on this host left "running", and re-send
queued jobs whose message the broker may not hold."""

import logging

from celery.signals import worker_ready

log = logging.getLogger(__name__)


@worker_ready.connect
def recover_orphans(sender=None, **kwargs) -> None:
    from .services import job_recover_orphans_of_host, job_requeue_waiting

    recovered = job_recover_orphans_of_host()
    if recovered:
        log.warning("recovered jobs left running by a dead worker: %s", recovered)
    resent = job_requeue_waiting()
    if resent:
        log.info("re-sent queued jobs: %s", resent)
