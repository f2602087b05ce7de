"""Work folders of running jobs, under MEDIA_ROOT so that a retried job on another worker finds them."""

import shutil
from pathlib import Path

from django.conf import settings


def job_work_dir(job_id: int) -> Path:
    path = Path(settings.MEDIA_ROOT) / "work" / f"job-{int(job_id)}"
    path.mkdir(parents=True, exist_ok=True)
    return path


def job_work_dir_remove(job_id: int) -> None:
    shutil.rmtree(Path(settings.MEDIA_ROOT) / "work" / f"job-{int(job_id)}", ignore_errors=True)
