"""Who may see and cancel other people's jobs. That is a question of roles, which live in accounts; jobs
sits beside accounts at the bottom of the layers and imports nothing of ours, so the project package
registers the answers (osteoscreen.apps). Unregistered, only superusers reach other people's jobs."""

from collections.abc import Callable
from typing import Any

UserCheck = Callable[[Any], bool]


def _superuser(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False))


_sees_every_job: UserCheck = _superuser
_cancels_any_job: UserCheck = _superuser


def job_access_register(*, sees_every_job: UserCheck, cancels_any_job: UserCheck) -> None:
    global _sees_every_job, _cancels_any_job
    _sees_every_job, _cancels_any_job = sees_every_job, cancels_any_job


def sees_every_job(user: Any) -> bool:
    return _sees_every_job(user)


def cancels_any_job(user: Any) -> bool:
    return _cancels_any_job(user)
