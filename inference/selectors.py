"""Reads of the models app: versions, their files (checked against their SHA-256), reference and
predicted masks, and a case's predictions."""

from __future__ import annotations

# inference.ml is imported inside the functions that use it: it loads torch, MONAI or pyradiomics, which the
# web process should not pay for at start-up. It is the same app's pure core, so no layer is crossed.
from functools import lru_cache
from pathlib import Path

from django.db.models import QuerySet

from annotations.models import ReferenceVOI
from cases.models import Case, Cohort, Split
from cases.selectors import current_split
from inference.errors import InvalidRequest, ModelFileCorrupt, NoActiveModel
from inference.files import file_sha256
from inference.models import ModelFile, ModelVersion, Prediction, SegmentationPrediction

Family = ModelVersion.Family
Status = ModelVersion.Status


# Versions whose files exist and may be used (a failed or training version has none).
USABLE_STATUSES = (Status.TRAINED, Status.ACTIVE, Status.RETIRED)


def versions_of_family(family: str) -> QuerySet[ModelVersion]:
    return (
        ModelVersion.objects.filter(family=family)
        .select_related("split__cohort", "parent", "job", "created_by", "promoted_by")
        .prefetch_related("files")
        .order_by("-number")
    )


def training_version(family: str) -> ModelVersion | None:
    """The version of a family being trained now, if any: a family trains one version at a time."""
    return (
        ModelVersion.objects.filter(family=family, status=ModelVersion.Status.TRAINING)
        .select_related("job")
        .first()
    )


def active_version(family: str) -> ModelVersion | None:
    return ModelVersion.objects.filter(family=family, status=Status.ACTIVE).first()


def version_by_number(family: str, number: int) -> ModelVersion:
    version = ModelVersion.objects.filter(family=family, number=number).first()
    if version is None:
        raise InvalidRequest(f"there is no {family} model version {number}")
    return version


def deployed_version(family: str, number: int | None = None) -> ModelVersion:
    """The version the deployed path uses: the one asked for, else the family's active one."""
    if number is not None:
        version = version_by_number(family, number)
        if version.status not in USABLE_STATUSES:
            raise InvalidRequest(f"{version} is {version.status} and has no usable files")
        return version
    active = active_version(family)
    if active is None:
        raise NoActiveModel(f"there is no active {family} model: train one and have a PI promote it")
    return active


def model_file_path(version: ModelVersion, role: str) -> Path:
    """The local path of a version's file, after checking its content against the stored SHA-256."""
    model_file = ModelFile.objects.filter(version=version, role=role).first()
    if model_file is None:
        raise InvalidRequest(f"{version} has no {role} file")
    path = Path(model_file.file.path)
    if not path.is_file():
        raise ModelFileCorrupt(f"the {role} file of {version} is missing from storage: {path}")
    return _checked(str(path), model_file.sha256, path.stat().st_mtime_ns)


@lru_cache(maxsize=32)
def _checked(path: str, sha256: str, mtime_ns: int) -> Path:
    # Cached per (path, hash, mtime): a file is hashed once per process unless it changes on disk.
    if file_sha256(path) != sha256:
        raise ModelFileCorrupt(f"{path} does not match its recorded SHA-256; it was changed after training")
    return Path(path)


def segmentation_checkpoints(version: ModelVersion):
    """(coarse, fine) checkpoints of a segmentation version, loaded once per process."""
    if version.family != Family.SEGMENTATION:
        raise InvalidRequest(f"{version} is not a segmentation model")
    return _load_checkpoints(model_file_path(version, "coarse"), model_file_path(version, "fine"))


@lru_cache(maxsize=4)
def _load_checkpoints(coarse_path: Path, fine_path: Path):
    from inference.ml.segmentation import load_checkpoint

    return load_checkpoint(coarse_path), load_checkpoint(fine_path)


def start_labelmap_path(case: Case) -> Path | None:
    """The active segmentation model's newest prediction for the case: the viewer's starting labelmap
    (registered in annotations' label store under its "start" tag by this app's ready())."""
    prediction = (
        SegmentationPrediction.objects.filter(
            case=case, model_version__family=Family.SEGMENTATION, model_version__status=Status.ACTIVE
        )
        .order_by("-created_at")
        .first()
    )
    return Path(prediction.mask.path) if prediction and prediction.mask else None


def current_reference_voi(case: Case):
    """The case's current reference VOI (approved by a senior reader), or None."""
    return ReferenceVOI.objects.filter(case=case, is_current=True).select_related("revision").first()


def cohort_split(cohort: Cohort) -> Split:
    split = current_split(cohort)
    if split is None:
        raise InvalidRequest(f"cohort {cohort.name!r} has no split yet: create one on the cohort page first")
    return split


def split_cases(split: Split, subset: str | None = None) -> list[Case]:
    """The split's included cases (optionally one subset), in id order."""
    memberships = split.memberships.filter(case__exclusions__isnull=True)
    if subset:
        memberships = memberships.filter(subset=subset)
    return [m.case for m in memberships.select_related("case__patient").order_by("case_id")]


def segmentation_of(case: Case, version: ModelVersion) -> SegmentationPrediction | None:
    return SegmentationPrediction.objects.filter(case=case, model_version=version).first()


def case_predictions(case: Case) -> list[Prediction]:
    """A case's bone-status predictions, active versions first, newest first."""
    predictions = (
        Prediction.objects.filter(case=case)
        .select_related("model_version", "segmentation")
        .order_by("-model_version__created_at", "mask_source")
    )
    return sorted(predictions, key=lambda p: p.model_version.status != Status.ACTIVE)


def case_segmentations(case: Case) -> QuerySet[SegmentationPrediction]:
    return (
        SegmentationPrediction.objects.filter(case=case)
        .select_related("model_version")
        .order_by("-created_at")
    )
