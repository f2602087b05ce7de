"""What a person reads about a job: a title per kind in the study's words, and a plain-language error.

The kinds are the registry's names (declared by each app's jobs.py); a kind missing here falls back to
its name made readable, so a new kind never shows an empty title.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from osteoscreen.errors import DomainError

if TYPE_CHECKING:
    from .models import Job

JOB_TITLES = {
    "annotations.agreement": "Interobserver agreement",
    "cases.import_file": "Import a CT",
    "cases.import_folder": "Import a cohort folder",
    "classifier.train": "Train bone-status classifier",
    "tests.selftest": "Worker self-test",
    "models.demo_pipeline": "Model pipeline (train, promote, segment, classify)",
    "radiomics.extract_case": "Extract radiomics features",
    "segmentation.segment_cohort": "Segment a cohort",
    "segmentation.train": "Train segmentation cascade",
}

# An absolute path on the server (a staging file, a model directory): never shown to a user.
SERVER_PATH = re.compile(r"(?:[A-Za-z]:)?(?:/[\w.@+-]+){2,}/?")
INTERNAL_ERROR = "an internal error stopped the job; an administrator can read the details on this page"


def job_title(job: Job) -> str:
    """'Interobserver agreement · SYN-0056': the kind's title and, when the starter named one, its subject
    (a study id, a cohort, a file name), never a database id."""
    title = JOB_TITLES.get(job.kind) or job.kind.replace(".", ": ").replace("_", " ").capitalize()
    subject = str((job.params or {}).get("subject") or "")
    return f"{title} · {subject}" if subject else title


def user_error(exc: BaseException) -> str:
    """The sentence a user reads when a job fails. Errors a user can cause (a refused file, a refused
    request) say what was wrong; anything else is an internal error whose traceback only the log and the
    admin see. Server paths are cut from either."""
    if isinstance(exc, DomainError | ValueError):
        text = SERVER_PATH.sub("(a file on the server)", str(exc)).strip()
        return text or INTERNAL_ERROR
    return INTERNAL_ERROR
