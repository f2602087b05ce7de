"""Job kinds and their handlers. Each app registers its handlers in `<app>/jobs.py`, imported by its
AppConfig.ready(): an explicit decorator rather than dotted strings in settings."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from .models import Job

# Only this many characters of log are kept on the row; the full log would grow without bound.
LOG_TAIL_CHARS = 8000


class JobCancelled(Exception):
    """Raised inside a handler when its owner asked to cancel."""


@dataclass(frozen=True)
class JobKind:
    name: str
    handler: Callable[["JobContext"], dict | None]
    queue: str
    time_limit: int
    max_attempts: int


_KINDS: dict[str, JobKind] = {}


def job_handler(name: str, *, queue: str = "cpu", time_limit: int = 3600, max_attempts: int = 2) -> Callable:
    if queue not in ("cpu", "gpu"):
        raise ValueError(f"queue must be 'cpu' or 'gpu', not {queue!r}")

    def register(handler: Callable) -> Callable:
        _KINDS[name] = JobKind(
            name=name, handler=handler, queue=queue, time_limit=time_limit, max_attempts=max_attempts
        )
        return handler

    return register


def job_kind(name: str) -> JobKind:
    try:
        return _KINDS[name]
    except KeyError:
        raise ValueError(f"unknown job kind {name!r}") from None


def job_kinds() -> list[str]:
    return sorted(_KINDS)


class JobContext:
    """What a handler sees of its job: parameters, and ways to report progress and notice cancellation."""

    def __init__(self, job: Job, on_progress: Callable[[float, str], None] | None = None) -> None:
        self.job = job
        self.params: dict[str, Any] = dict(job.params)
        self.owner = job.owner
        self._on_progress = on_progress

    def _write(self, **fields: Any) -> None:
        fields["heartbeat_at"] = timezone.now()
        Job.objects.filter(pk=self.job.pk).update(**fields)
        for name, value in fields.items():
            setattr(self.job, name, value)

    def progress(self, percent: float, message: str = "") -> None:
        self._write(progress=max(0.0, min(100.0, float(percent))), message=message[:255])
        if self._on_progress is not None:
            self._on_progress(self.job.progress, message)
        self.check_cancelled()

    def log(self, line: str) -> None:
        tail = (self.job.log_tail + line.rstrip() + "\n")[-LOG_TAIL_CHARS:]
        self._write(log_tail=tail)

    def publish(self, key: str, value: Any) -> None:
        data = dict(self.job.data)
        data[key] = value
        self._write(data=data)

    def cancel_requested(self) -> bool:
        return Job.objects.filter(pk=self.job.pk, cancel_requested=True).exists()

    def check_cancelled(self) -> None:
        if self.cancel_requested():
            raise JobCancelled()
