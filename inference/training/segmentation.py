"""The segmentation side of the models app: "Retrain segmentation" (the VB-Net cascade on the reference
VOIs of a split's training cases), "Segment cohort" (the active model on every case of a cohort), and
segmenting one CT for the deployed path.

The training job keeps its checkpoints in a work folder keyed by the job id under MEDIA_ROOT: a job
retried after its worker died finds them there and continues from the last finished epoch.
"""

from __future__ import annotations

# inference.ml is imported inside the functions that use it: it loads torch, MONAI or pyradiomics, which the
# web process should not pay for at start-up. It is the same app's pure core, so no layer is crossed.
import dataclasses
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import SimpleITK as sitk
from django.core.files import File
from django.db import IntegrityError, transaction

from annotations.models import VOIRevision
from cases.models import Case, Cohort
from cases.qc import IMPORT_SOURCE, case_image_qc, case_qc_record
from cases.selectors import case_image, case_volume_path
from imageqc import by_side, sides_qc
from inference import selectors
from inference.errors import InvalidRequest
from inference.files import file_sha256
from inference.kinds import SEGMENT_COHORT_JOB, SEGMENTATION_TRAIN_JOB
from inference.models import ModelVersion, SegmentationPrediction
from jobs.models import Job
from jobs.registry import JobCancelled, JobContext
from jobs.services import job_start
from voi.labels import FEMUR_LABELS

from .versions import (
    model_version_attach_job,
    model_version_create,
    model_version_fail,
    model_version_mark_trained,
)
from .workdirs import job_work_dir, job_work_dir_remove

if TYPE_CHECKING:  # the ML package imports torch; only the type is needed here
    from inference.ml.segmentation.training import TrainingResult

Family = ModelVersion.Family
# What a start request may change in both stages of a named configuration (the rest is the design).
STAGE_OVERRIDES = (
    "epochs",
    "spacing_mm",
    "patch_size",
    "window_size",
    "base_width",
    "depth",
    "patches_per_case",
    "batch_size",
    "validate_every",
    "sliding_overlap",
    "foreground_fraction",
)
# The named configurations of inference.ml.segmentation.config (a test keeps the two lists equal; the web
# process does not import torch to name them). "demo" trains with domain randomisation, "demo_study_look"
# is the same design on the cohort's look alone.
CONFIG_NAMES = ("demo", "demo_study_look", "paper")
# Training takes this share of the progress bar; storing files and the summary take the rest.
TRAINING_PROGRESS_SHARE = 95.0


# --- configuration -------------------------------------------------------------------------------------


def segmentation_config_build(
    *,
    config_name: str,
    epochs: int | None = None,
    stage_overrides: dict | None = None,
    split_id: int | None = None,
    seed: int | None = None,
    randomised_cases: int | None = None,
):
    """A named configuration (CONFIG_NAMES) with the request's changes; InvalidRequest when they are bad.
    randomised_cases (None: the configuration's) sets how many randomised phantom cases join the training."""
    from inference.ml.segmentation import configuration

    try:
        config = configuration(config_name)
        changes = dict(stage_overrides or {})
        unknown = sorted(set(changes) - set(STAGE_OVERRIDES))
        if unknown:
            raise ValueError(f"these settings cannot be changed: {unknown}; allowed: {list(STAGE_OVERRIDES)}")
        if epochs is not None:
            changes["epochs"] = int(epochs)
        if "spacing_mm" in changes and not float(changes["spacing_mm"]) > 0:
            raise ValueError("spacing_mm must be positive")
        for name in ("patch_size", "window_size"):
            if changes.get(name) is not None:
                changes[name] = tuple(int(v) for v in changes[name])
        coarse = dataclasses.replace(config.coarse, **changes)
        fine = dataclasses.replace(config.fine, **changes)
        _check_architecture(coarse)
        extra = {"seed": int(seed)} if seed is not None else {}
        if randomised_cases is not None:
            extra["randomised_cases"] = randomised_cases
        return config.with_overrides(coarse=coarse, fine=fine, split_id=split_id, **extra)
    except (ValueError, TypeError) as error:
        raise InvalidRequest(f"bad segmentation configuration: {error}") from error


def _check_architecture(stage) -> None:
    # Building the network checks its arguments (milliseconds), so a bad request fails here, not in the job.
    from inference.ml.vbnet import VBNet

    VBNet(in_channels=1, out_channels=2, base_width=stage.base_width, depth=stage.depth, norm=stage.norm)


def _reference_pairs(split, subset: str) -> list[dict]:
    """Cases of a subset that have a reference VOI, with the revision that will be trained on."""
    pairs = []
    for case in selectors.split_cases(split, subset):
        reference = selectors.current_reference_voi(case)
        if reference is not None:
            pairs.append(
                {
                    "case_id": case.pk,
                    "revision_id": reference.revision_id,
                    "labelmap_sha256": reference.revision.labelmap_sha256,
                }
            )
    return pairs


# --- "Retrain segmentation" ---------------------------------------------------------------------------


@transaction.atomic
def segmentation_training_start(
    *,
    owner: Any,
    cohort: Cohort,
    config_name: str = "demo",
    epochs: int | None = None,
    stage_overrides: dict | None = None,
    seed: int | None = None,
    randomised_cases: int | None = None,
) -> Job:
    """Create a segmentation version (status training) on the cohort's current split and queue its job.
    randomised_cases: randomised phantom cases mixed into the training (None: the configuration's number).

    Refused with InvalidRequest when no training case has a reference VOI, TrainingInProgress (409) when a
    segmentation model is already training.
    """
    split = selectors.cohort_split(cohort)
    training, validation = _reference_pairs(split, "training"), _reference_pairs(split, "validation")
    if not training:
        raise InvalidRequest(f"no training case of {split} has a reference VOI yet; approve some VOIs first")
    config = segmentation_config_build(
        config_name=config_name,
        epochs=epochs,
        stage_overrides=stage_overrides,
        split_id=split.pk,
        seed=seed,
        randomised_cases=randomised_cases,
    )
    lineage = {
        "split_id": split.pk,
        "cohort_id": cohort.pk,
        "config_name": config.name,
        "seed": config.seed,
        "training_cases": training,
        "validation_cases": validation,
        "randomised_cases": config.randomised_cases,
    }
    version = model_version_create(
        family=Family.SEGMENTATION,
        owner=owner,
        split=split,
        config=config.as_dict(),
        lineage=lineage,
        name=f"{config.name} on {cohort.name}",
    )
    job = job_start(
        kind=SEGMENTATION_TRAIN_JOB,
        owner=owner,
        params={
            "model_version_id": version.pk,
            "cohort_id": cohort.pk,
            "config_name": config.name,
            "subject": cohort.name,
        },
    )
    model_version_attach_job(version=version, job=job)
    return job


def _case_pairs(rows: list[dict]) -> list[tuple[Path, Path]]:
    revisions = VOIRevision.objects.in_bulk([r["revision_id"] for r in rows])
    cases = Case.objects.in_bulk([r["case_id"] for r in rows])
    return [
        (case_volume_path(cases[r["case_id"]]), Path(revisions[r["revision_id"]].labelmap.path)) for r in rows
    ]


def segmentation_training_run(ctx: JobContext) -> dict:
    """The job's body: train (or resume), then store the checkpoints as the version's files."""
    from inference.ml.segmentation import (
        SegmentationConfig,
        checkpoint_path,
        code_version,
        train_segmentation,
    )

    version = ModelVersion.objects.get(pk=ctx.params["model_version_id"])
    if version.status != ModelVersion.Status.TRAINING:  # a redelivered job whose work is already done
        return {"model_version": version.pk, "number": version.number, "status": version.status}
    config = SegmentationConfig.from_dict(version.config)
    work = job_work_dir(ctx.job.pk)
    if checkpoint_path(work, "coarse").exists():
        ctx.log(f"resuming from the checkpoints of an earlier attempt in {work.name}")
    curve = _LossCurve(ctx)
    try:
        result = train_segmentation(
            config,
            _case_pairs(version.lineage["training_cases"]),
            _case_pairs(version.lineage["validation_cases"]),
            work,
            on_progress=curve.record,
            should_stop=ctx.cancel_requested,
        )
        if not result.completed:
            raise JobCancelled()
        checkpoints = _stage_checkpoints(result)
    except JobCancelled:
        model_version_fail(version=version, reason="training was cancelled by its owner")
        job_work_dir_remove(ctx.job.pk)
        raise
    except Exception as error:
        model_version_fail(version=version, reason=f"training failed: {error}")
        raise
    ctx.progress(TRAINING_PROGRESS_SHARE, "storing the model files")
    validation = _validation_metrics(result, version.lineage["validation_cases"])
    ctx.publish("validation", validation["summary"])
    ood = _out_of_distribution_metrics(result)
    ctx.log(_heldout_line(ood))
    metrics = {
        **validation,
        "out_of_distribution": ood,
        "history": curve.points,
        "seconds": round(result.seconds, 1),
        "epochs": {"coarse": config.coarse.epochs, "fine": config.fine.epochs},
    }
    model_version_mark_trained(
        version=version, metrics=metrics, lineage={"code_version": code_version()}, files=checkpoints
    )
    job_work_dir_remove(ctx.job.pk)
    ctx.log(f"trained {version}: validation {validation['summary']}")
    return {"model_version": version.pk, "number": version.number, "validation": validation["summary"]}


def _stage_checkpoints(result: TrainingResult) -> dict[str, Path]:
    """Both stages' checkpoint files: a completed run without them has nothing a version could serve."""
    coarse, fine = result.coarse_checkpoint, result.fine_checkpoint
    if coarse is None or fine is None:
        raise RuntimeError("training reported completion without both the coarse and the fine checkpoint")
    return {"coarse": coarse, "fine": fine}


def _validation_metrics(result, validation_cases: list[dict]) -> dict:
    per_case = [
        {"case_id": row["case_id"], **{str(label): values for label, values in agreement.items()}}
        for row, agreement in zip(validation_cases, result.per_case, strict=False)
    ]
    return {"summary": result.validation, "per_case": per_case}


def _heldout_line(ood: dict) -> str:
    if "error" in ood:
        return ood["error"]
    dice, gap = ood.get("dice_mean"), ood.get("dice_gap")
    line = f"held-out profile: Dice {dice:.3f}" if dice is not None else "held-out profile: no Dice"
    if gap is not None:
        line += f", {gap:.3f} below validation"
    return line + (
        " (more than the limit: the model leans on appearance)" if ood.get("below_validation") else ""
    )


def _out_of_distribution_metrics(result) -> dict:
    """The held-out profile's summary and verdict (inference.ml.segmentation.heldout), with its per-case
    agreement, for the version's metrics and page."""
    per_case = [
        {"case": index, **{str(label): values for label, values in agreement.items()}}
        for index, agreement in enumerate(result.out_of_distribution_per_case)
    ]
    return {**result.out_of_distribution, "per_case": per_case}


class _LossCurve:
    """The live loss / validation Dice curve of a training job, kept in job.data for the page's chart.

    A resumed job starts from the curve its earlier attempt published, so the chart shows every epoch once.
    """

    def __init__(self, ctx: JobContext) -> None:
        self.ctx = ctx
        self.points: list[dict] = list(ctx.job.data.get("loss_curve", []))

    def record(self, epoch: int, total: int, metrics: dict) -> None:
        point = {"epoch": epoch, **{k: _plain(v) for k, v in metrics.items()}}
        self.points = [p for p in self.points if p["epoch"] < epoch] + [point]
        self.ctx.publish("loss_curve", self.points)
        dice = f", validation Dice {metrics['val_dice']:.3f}" if "val_dice" in metrics else ""
        message = f"epoch {epoch}/{total} ({metrics.get('stage', '')}): loss {metrics.get('loss', float('nan')):.4f}{dice}"
        self.ctx.log(message)
        self.ctx.progress(TRAINING_PROGRESS_SHARE * epoch / max(total, 1), message)


def _plain(value):
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else round(float(value), 6)
    return value


# --- segmenting a CT --------------------------------------------------------------------------------------


def segment_ct(
    image: sitk.Image, version: ModelVersion, *, confidence_out: dict[int, float] | None = None
) -> sitk.Image:
    """The version's cascade on one CT: a uint8 label image on the CT's own grid (and, in confidence_out,
    each label's mean probability)."""
    from inference.ml.segmentation import segment_image

    coarse, fine = selectors.segmentation_checkpoints(version)
    return segment_image(image, coarse, fine, confidence_out=confidence_out)


def mask_write(mask: sitk.Image, path: Path) -> str:
    """Write a label image as compressed NIfTI uint8; returns its SHA-256."""
    sitk.WriteImage(sitk.Cast(mask, sitk.sitkUInt8), str(path), useCompression=True, compressionLevel=1)
    return file_sha256(path)


def mask_agreement(reference: sitk.Image, predicted: sitk.Image) -> tuple[dict, dict]:
    """Dice and VD (reference minus predicted, cm3) per side either mask has, and overall, by the metrics
    core's convention (voi.metrics: overall pools the sides; a side only one mask has scores Dice 0)."""
    from inference.ml.segmentation import reference_agreement

    agreement = reference_agreement(reference, predicted, surface=False)
    compared = {key: values for key, values in agreement.items() if values["dice"] is not None}
    dice = {key: round(values["dice"], 6) for key, values in compared.items()}
    volume = {key: round(values["volume_difference_cm3"], 4) for key, values in compared.items()}
    return dice, volume


def case_segment(*, case: Case, version: ModelVersion, job: Job | None = None) -> SegmentationPrediction:
    """Segment a case with a version (once: an existing prediction is returned as it is)."""
    existing = selectors.segmentation_of(case, version)
    if existing is not None:
        return existing
    started = time.perf_counter()
    image, confidence = case_image(case), dict[int, float]()
    mask = segment_ct(image, version, confidence_out=confidence)
    seconds = time.perf_counter() - started
    mask_qc_record(case=case, image=image, mask=mask, version=version, confidence=confidence)
    reference = selectors.current_reference_voi(case)
    dice: dict[str, float] = {}
    volume: dict[str, float] = {}
    if reference is not None:
        dice, volume = mask_agreement(sitk.ReadImage(reference.revision.labelmap.path), mask)
    voxels = {str(label): int((sitk.GetArrayViewFromImage(mask) == label).sum()) for label in FEMUR_LABELS}
    with tempfile.TemporaryDirectory(prefix="osteoscreen-mask-") as folder:
        path = Path(folder) / "mask.nii.gz"
        sha256 = mask_write(mask, path)
        return _segmentation_store(
            case=case,
            version=version,
            path=path,
            sha256=sha256,
            voxels=voxels,
            dice=dice,
            volume=volume,
            reference_sha256=reference.revision.labelmap_sha256 if reference else "",
            seconds=seconds,
            job=job,
        )


def mask_qc_record(
    *,
    case: Case,
    image: sitk.Image,
    mask: sitk.Image,
    version: ModelVersion,
    confidence: dict[int, float] | None = None,
) -> None:
    """Store the QC findings of a version's mask on the case (those the import already found are not repeated)."""
    verdicts = sides_qc(
        case_image_qc(image, slice_thickness_mm=case.slice_thickness_mm),
        mask,
        mean_probability=by_side(confidence),
    )
    known = set(case.qc_findings.filter(source=IMPORT_SOURCE).values_list("code", "side"))
    flags = [
        flag for verdict in verdicts.values() for flag in verdict.flags if (flag.code, flag.side) not in known
    ]
    case_qc_record(case=case, flags=flags, source=f"segmentation v{version.number}")


def _segmentation_store(
    *, case, version, path: Path, sha256: str, voxels, dice, volume, reference_sha256, seconds, job
) -> SegmentationPrediction:
    prediction = SegmentationPrediction(
        case=case,
        model_version=version,
        mask_sha256=sha256,
        voxels=voxels,
        dice=dice,
        volume_difference_cm3=volume,
        reference_sha256=reference_sha256,
        seconds=round(seconds, 3),
        job=job,
    )
    with open(path, "rb") as handle:
        prediction.mask.save("mask.nii.gz", File(handle), save=False)
    try:
        with transaction.atomic():
            prediction.save()
    except IntegrityError:  # another worker stored this case first; keep theirs
        if prediction.mask.name:  # a field whose save returned no name holds no file
            prediction.mask.storage.delete(prediction.mask.name)
        return SegmentationPrediction.objects.get(case=case, model_version=version)
    return prediction


# --- "Segment cohort" --------------------------------------------------------------------------------------


@transaction.atomic
def segment_cohort_start(*, owner: Any, cohort: Cohort, version: ModelVersion | None = None) -> Job:
    """Queue the segmentation of every case of a cohort by a version (default: the active one)."""
    version = version or selectors.deployed_version(Family.SEGMENTATION)
    if version.family != Family.SEGMENTATION or version.status not in selectors.USABLE_STATUSES:
        raise InvalidRequest(f"{version} cannot segment: it is {version.status} ({version.family})")
    if not cohort.cases.exists():
        raise InvalidRequest(f"cohort {cohort.name!r} has no cases")
    return job_start(
        kind=SEGMENT_COHORT_JOB,
        owner=owner,
        params={"cohort_id": cohort.pk, "model_version_id": version.pk, "subject": cohort.name},
    )


def segment_cohort_run(ctx: JobContext) -> dict:
    """Segment each case (skipping those already done); a case that fails is logged and the rest go on."""
    version = ModelVersion.objects.get(pk=ctx.params["model_version_id"])
    cases = list(
        Cohort.objects.get(pk=ctx.params["cohort_id"]).cases.select_related("patient").order_by("pk")
    )
    failed = []
    for index, case in enumerate(cases):
        ctx.progress(100.0 * index / len(cases), f"case {index + 1}/{len(cases)}: {case.patient.study_id}")
        try:
            prediction = case_segment(case=case, version=version, job=ctx.job)
        except (
            ValueError,
            RuntimeError,
            OSError,
        ) as error:  # an unreadable or odd CT must not stop the cohort
            failed.append({"case_id": case.pk, "error": str(error)[:300]})
            ctx.log(f"{case.patient.study_id}: not segmented: {error}")
            continue
        if prediction.dice:
            ctx.log(f"{case.patient.study_id}: Dice {prediction.dice.get('overall')}, {prediction.seconds} s")
    if cases and len(failed) == len(cases):
        raise RuntimeError(f"no case could be segmented; first error: {failed[0]['error']}")
    rows = SegmentationPrediction.objects.filter(model_version=version, case__in=cases)
    dices = [row.dice["overall"] for row in rows if row.dice.get("overall") is not None]
    summary = {
        "model_version": version.pk,
        "cases": len(cases) - len(failed),
        "failed": failed,
        "with_reference": len(dices),
        "dice_mean": float(np.mean(dices)) if dices else None,
    }
    ctx.publish("summary", summary)
    return summary
