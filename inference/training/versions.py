"""The life of a model version: training -> trained -> active -> retired (or failed).

Nothing is overwritten: a version's files and metrics are written once, when it finishes training, and
promotion only moves the family's "active" pointer. Exactly one version per family is active (a database
constraint holds it too), and one version per family trains at a time.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from accounts.audit import audit_log
from accounts.roles import Role, has_role
from cases.models import Split
from cases.services import split_lock
from inference.errors import InvalidRequest, NotAllowed, TrainingInProgress, WrongStatus
from inference.files import file_sha256
from inference.models import ModelFile, ModelVersion
from jobs.models import Job

log = logging.getLogger(__name__)
Status = ModelVersion.Status
Family = ModelVersion.Family

# The files a version must have before it can serve the deployed path.
# Keyed by str: a version's family field holds the plain value, which equals the Family member.
REQUIRED_FILES: dict[str, tuple[str, ...]] = {
    Family.SEGMENTATION: ("coarse", "fine"),
    Family.CLASSIFIER: ("pipeline",),
    Family.BASELINE: ("pipeline",),
}
PROMOTABLE = (Status.TRAINED, Status.RETIRED)


@transaction.atomic
def model_version_create(
    *,
    family: str,
    owner: Any = None,
    split: Split | None = None,
    config: dict | None = None,
    lineage: dict | None = None,
    parent: ModelVersion | None = None,
    job: Job | None = None,
    name: str = "",
) -> ModelVersion:
    """A new version in status "training"; the split it trains on is locked from now on."""
    if family not in Family.values:
        raise InvalidRequest(f"unknown model family {family!r}; choose from {Family.values}")
    _fail_abandoned_trainings(family)
    if ModelVersion.objects.filter(family=family, status=Status.TRAINING).exists():
        raise TrainingInProgress(
            f"a {family} model is already training; wait for it to finish or cancel its job"
        )
    latest = (
        ModelVersion.objects.select_for_update().filter(family=family).aggregate(n=Max("number"))["n"] or 0
    )
    try:
        with transaction.atomic():
            version = ModelVersion.objects.create(
                family=family,
                number=latest + 1,
                status=Status.TRAINING,
                name=name[:100],
                config=config or {},
                lineage=lineage or {},
                split=split,
                parent=parent,
                job=job,
                created_by=owner if getattr(owner, "is_authenticated", False) else None,
            )
    except IntegrityError as error:  # another request started one between our check and our insert
        raise TrainingInProgress(f"a {family} model is already training") from error
    if split is not None:
        split_lock(split=split, actor=owner)
    audit_log(actor=owner, action="create", obj=version)
    return version


def _fail_abandoned_trainings(family: str) -> None:
    # A worker that died with no attempts left finishes its job without running our handler, which would
    # leave the version "training" for ever and block the family; its finished job says it is over.
    abandoned = ModelVersion.objects.filter(
        family=family, status=Status.TRAINING, job__status__in=Job.FINISHED
    )
    for version in abandoned:
        job = version.job
        assert job is not None, "the filter on job__status only matches versions with a job"
        model_version_fail(version=version, reason=f"its job {job.pk} ended ({job.status})")


@transaction.atomic
def model_version_attach_job(*, version: ModelVersion, job: Job) -> ModelVersion:
    ModelVersion.objects.filter(pk=version.pk).update(job=job)
    version.job = job
    return version


@transaction.atomic
def model_version_mark_trained(
    *,
    version: ModelVersion,
    metrics: dict,
    files: dict[str, Path],
    lineage: dict | None = None,
    config: dict | None = None,
) -> ModelVersion:
    """training -> trained, with its metrics and files (each stored with its SHA-256)."""
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != Status.TRAINING:
        raise WrongStatus(f"{version} is {version.status}, not training")
    stored: list[ModelFile] = []
    try:
        for role, path in files.items():
            stored.append(model_file_add(version=version, role=role, path=Path(path)))
        version.metrics = metrics
        version.lineage = {**version.lineage, **(lineage or {})}
        if config is not None:
            version.config = config
        version.status = Status.TRAINED
        version.save(update_fields=["metrics", "lineage", "config", "status"])
    except BaseException:
        for model_file in stored:  # the rows roll back; their files must go too
            if model_file.file.name:  # a field whose save returned no name holds no file
                model_file.file.storage.delete(model_file.file.name)
        raise
    audit_log(
        actor=version.created_by,
        action="update",
        obj=version,
        changes={"status": [Status.TRAINING, Status.TRAINED]},
    )
    return version


def model_file_add(*, version: ModelVersion, role: str, path: Path) -> ModelFile:
    if not path.is_file():
        raise InvalidRequest(f"model file {path} does not exist")
    sha256 = file_sha256(path)
    model_file = ModelFile(version=version, role=role, sha256=sha256, size_bytes=path.stat().st_size)
    with open(path, "rb") as handle:
        model_file.file.save(f"{role}-{sha256[:12]}{''.join(path.suffixes)}", File(handle), save=False)
    model_file.save()
    return model_file


@transaction.atomic
def model_version_fail(*, version: ModelVersion, reason: str) -> ModelVersion:
    """training -> failed, keeping the reason; a failed version never serves."""
    updated = ModelVersion.objects.filter(pk=version.pk, status=Status.TRAINING).update(status=Status.FAILED)
    version.refresh_from_db()
    if updated:
        version.metrics = {**version.metrics, "error": reason[-2000:]}
        version.save(update_fields=["metrics"])
        audit_log(
            actor=None, action="update", obj=version, changes={"status": [Status.TRAINING, Status.FAILED]}
        )
    return version


@transaction.atomic
def model_version_promote(*, version: ModelVersion, actor: Any) -> ModelVersion:
    """Make a trained (or retired) version the family's active one; the previous active one retires."""
    if not has_role(actor, Role.PI):
        raise NotAllowed("only a PI can promote a model version")
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status not in PROMOTABLE:
        raise WrongStatus(f"{version} is {version.status}; only a trained or retired version can be promoted")
    missing = set(REQUIRED_FILES.get(version.family, ())) - set(version.files.values_list("role", flat=True))
    if missing:
        raise WrongStatus(f"{version} lacks its {', '.join(sorted(missing))} file(s) and cannot serve")
    for previous in ModelVersion.objects.select_for_update().filter(
        family=version.family, status=Status.ACTIVE
    ):
        previous.status = Status.RETIRED
        previous.save(update_fields=["status"])
        audit_log(
            actor=actor, action="update", obj=previous, changes={"status": [Status.ACTIVE, Status.RETIRED]}
        )
    before = version.status
    version.status, version.promoted_by, version.promoted_at = Status.ACTIVE, actor, timezone.now()
    version.save(update_fields=["status", "promoted_by", "promoted_at"])
    audit_log(actor=actor, action="update", obj=version, changes={"status": [before, Status.ACTIVE]})
    return version


@transaction.atomic
def model_version_retire(*, version: ModelVersion, actor: Any) -> ModelVersion:
    """Take a trained or active version out of service (the family may then have no active version)."""
    if not has_role(actor, Role.PI):
        raise NotAllowed("only a PI can retire a model version")
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status not in (Status.TRAINED, Status.ACTIVE):
        raise WrongStatus(f"{version} is {version.status}; only a trained or active version can be retired")
    before = version.status
    version.status = Status.RETIRED
    version.save(update_fields=["status"])
    audit_log(actor=actor, action="update", obj=version, changes={"status": [before, Status.RETIRED]})
    return version
