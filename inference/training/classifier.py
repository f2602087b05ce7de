"""The "Retrain classifier" job: radiomics features of every case of a split (missing ones extracted in
parallel on the cpu queue), the paper's RFE -> mRMR -> LASSO -> random forest fitted on the training
subset, the mean-trabecular-HU baseline beside it, both evaluated on the validation subset and stored as
model versions with their lineage, and a prediction for every case of the split.

Masks: the active segmentation model's predictions when one is active (what a screening deployment
reads), else the reference VOIs; the start request may name the source.
"""

from __future__ import annotations

# inference.ml is imported inside the functions that use it: it loads torch, MONAI or pyradiomics, which the
# web process should not pay for at start-up. It is the same app's pure core, so no layer is crossed.
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings as django_settings
from django.db import transaction

from cases.bone_status import CLASSES
from cases.models import Case, Cohort
from inference import selectors
from inference.errors import InvalidRequest
from inference.kinds import CLASSIFIER_TRAIN_JOB, RADIOMICS_EXTRACT_JOB
from inference.ml.evaluation import TRAINING_APPARENT, TRAINING_OUT_OF_BAG
from inference.models import FeatureVector, ModelVersion, Prediction, SegmentationPrediction
from jobs.models import Job
from jobs.registry import JobCancelled, JobContext
from jobs.services import job_start

from . import features
from .jobgroups import jobs_await
from .versions import (
    model_version_attach_job,
    model_version_create,
    model_version_fail,
    model_version_mark_trained,
)
from .workdirs import job_work_dir, job_work_dir_remove

Family = ModelVersion.Family
MaskSource = FeatureVector.MaskSource
AUTO = "auto"
# The files whose content decides a fitted classifier besides its data and settings.
_CODE_FILES = (
    "ml/classifier.py",
    "ml/selection.py",
    "ml/radiomics/extractor.py",
    "ml/radiomics/trabecular.py",
    "training/features.py",
    "training/classifier.py",
)


def classifier_code_version() -> str:
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parents[1]
    for name in _CODE_FILES:
        digest.update((here / name).read_bytes())
    return "radiomics-rf-" + digest.hexdigest()[:12]


def classifier_config():
    """The classifier configuration: settings.CLASSIFIER_CONFIG_PATH, else the repository's YAML."""
    from inference.ml.classifier import CONFIG_PATH, load_config

    try:
        return load_config(getattr(django_settings, "CLASSIFIER_CONFIG_PATH", None) or CONFIG_PATH)
    except ValueError as error:
        raise InvalidRequest(str(error)) from error


def resolve_mask_source(mask_source: str, split) -> tuple[str, ModelVersion | None]:
    """("prediction", active segmentation) or ("reference", None), as asked or ("auto") as available."""
    segmentation = selectors.active_version(Family.SEGMENTATION)
    if mask_source == AUTO:
        predicted = (
            segmentation is not None
            and SegmentationPrediction.objects.filter(
                model_version=segmentation, case__split_memberships__split=split
            ).exists()
        )
        return (MaskSource.PREDICTION, segmentation) if predicted else (MaskSource.REFERENCE, None)
    if mask_source == MaskSource.PREDICTION:
        if segmentation is None:
            raise InvalidRequest("predicted masks need an active segmentation model; promote one first")
        return MaskSource.PREDICTION, segmentation
    if mask_source == MaskSource.REFERENCE:
        return MaskSource.REFERENCE, None
    raise InvalidRequest(f"mask_source must be auto, prediction or reference, not {mask_source!r}")


def _check_training_classes(split) -> None:
    present = set(
        split.memberships.filter(subset="training", case__exclusions__isnull=True).values_list(
            "case__bone_status", flat=True
        )
    )
    absent = [name for name in CLASSES if name not in present]
    if absent:
        raise InvalidRequest(
            f"the training subset of {split} has no case of class {', '.join(absent)}; "
            "a three-class model needs every class"
        )


@transaction.atomic
def classifier_training_start(
    *, owner: Any, cohort: Cohort, mask_source: str = AUTO, sides: list[str] | None = None
) -> Job:
    """Create the classifier and baseline versions (status training) and queue their job."""
    split = selectors.cohort_split(cohort)
    _check_training_classes(split)
    source, segmentation = resolve_mask_source(mask_source, split)
    sides = list(features.check_sides(sides) if sides else features.study_sides())
    radiomics, config = features.radiomics_settings(), classifier_config()
    lineage = {
        "split_id": split.pk,
        "cohort_id": cohort.pk,
        "mask_source": source,
        "sides": sides,
        "segmentation_version_id": segmentation.pk if segmentation else None,
        "segmentation_version": segmentation.number if segmentation else None,
        "feature_settings_hash": radiomics.settings_hash,
        "code_version": classifier_code_version(),
    }
    common = {"owner": owner, "split": split, "lineage": lineage, "parent": segmentation}
    shared = {"mask_source": source, "sides": sides, "radiomics_params": radiomics.params}
    classifier = model_version_create(
        family=Family.CLASSIFIER,
        name=f"radiomics RF on {cohort.name}",
        config={**shared, "classifier": config.as_dict()},
        **common,
    )
    baseline = model_version_create(
        family=Family.BASELINE,
        name=f"mean trabecular HU on {cohort.name}",
        config={**shared, "classifier": config.as_dict(), "feature": features.BASELINE_FEATURE},
        **common,
    )
    job = job_start(
        kind=CLASSIFIER_TRAIN_JOB,
        owner=owner,
        params={
            "classifier_version_id": classifier.pk,
            "baseline_version_id": baseline.pk,
            "cohort_id": cohort.pk,
            "subject": cohort.name,
        },
    )
    for version in (classifier, baseline):
        model_version_attach_job(version=version, job=job)
    return job


@dataclass
class _Row:
    case: Case
    subset: str
    features: dict[str, float]
    trabecular_hu: float
    segmentation_id: int | None


def classifier_training_run(ctx: JobContext) -> dict:
    classifier = ModelVersion.objects.select_related("split", "parent").get(
        pk=ctx.params["classifier_version_id"]
    )
    baseline = ModelVersion.objects.get(pk=ctx.params["baseline_version_id"])
    if classifier.status != ModelVersion.Status.TRAINING:  # a redelivered job whose work is already done
        return {
            "classifier_version": classifier.pk,
            "baseline_version": baseline.pk,
            "status": classifier.status,
        }
    try:
        result = _train(ctx, classifier, baseline)
    except JobCancelled:
        for version in (classifier, baseline):
            model_version_fail(version=version, reason="training was cancelled by its owner")
        raise
    except Exception as error:
        for version in (classifier, baseline):
            model_version_fail(version=version, reason=f"training failed: {error}")
        raise
    job_work_dir_remove(ctx.job.pk)
    return result


def _train(ctx: JobContext, classifier: ModelVersion, baseline: ModelVersion) -> dict:
    from inference.ml.radiomics import settings_from_dict

    sides, source = classifier.config["sides"], classifier.config["mask_source"]
    settings = settings_from_dict(classifier.config["radiomics_params"], source=f"{classifier}")
    split = classifier.split
    if split is None:  # the subsets are the split's: without one there is nothing to train or test on
        raise InvalidRequest(f"{classifier} has no split to train on")
    subsets = dict(split.memberships.values_list("case_id", "subset"))
    cases = selectors.split_cases(split)
    masks = {
        case.pk: features.case_mask(case, mask_source=source, segmentation_version=classifier.parent)
        for case in cases
    }
    _extract_missing(
        ctx,
        [m for m in masks.values() if m is not None],
        sides=sides,
        settings=settings,
        segmentation=classifier.parent,
    )
    rows, left_out = _feature_rows(cases, masks, subsets, sides=sides, settings_hash=settings.settings_hash)
    ctx.log(f"{len(rows)} cases with features; left out: {left_out or 'none'}")
    in_sample = in_sample_masks(rows, classifier.parent)
    if in_sample:
        ctx.log(
            f"warning: the masks of {in_sample} held-out case(s) come from a segmentation model that "
            "trained on them; their validation figures are in-sample"
        )
    ctx.progress(78, "fitting RFE -> mRMR -> LASSO -> random forest, and the baseline")
    fitted = _fit(rows, config_data=classifier.config["classifier"], settings_hash=settings.settings_hash)
    ctx.progress(92, "storing the versions and the predictions")
    for metrics in fitted["metrics"].values():
        metrics["in_sample_masks"] = in_sample
    _store(ctx, classifier, baseline, fitted, rows, left_out, source=source)
    summary = {
        "classifier_version": classifier.pk,
        "baseline_version": baseline.pk,
        "validation_auc": fitted["metrics"]["radiomics"]["validation_auc"],
        "baseline_validation_auc": fitted["metrics"]["baseline"]["validation_auc"],
    }
    ctx.publish("summary", summary)
    return summary


def in_sample_masks(rows: list[_Row], segmentation: ModelVersion | None) -> dict[str, int]:
    """Held-out (validation, test) cases per subset whose predicted mask comes from a segmentation model
    that trained on them (the training cases its job recorded in its lineage)."""
    if segmentation is None:
        return {}
    trained_on = {int(row["case_id"]) for row in (segmentation.lineage or {}).get("training_cases", [])}
    counts: dict[str, int] = {}
    for row in rows:
        if row.segmentation_id and row.subset in ("validation", "test") and row.case.pk in trained_on:
            counts[row.subset] = counts.get(row.subset, 0) + 1
    return counts


def _extract_missing(ctx, masks, *, sides, settings, segmentation) -> None:
    missing = [
        m
        for m in masks
        if len(features.stored_features(m, settings_hash=settings.settings_hash, sides=sides)) < len(sides)
    ]
    ctx.log(
        f"features stored for {len(masks) - len(missing)} of {len(masks)} masks; extracting {len(missing)}"
    )
    study_ids = dict(
        Case.objects.filter(pk__in=[m.case_id for m in missing]).values_list("pk", "patient__study_id")
    )
    children = [
        job_start(
            kind=RADIOMICS_EXTRACT_JOB,
            owner=ctx.owner,
            params={
                "case_id": m.case_id,
                "mask_source": m.source,
                "sides": list(sides),
                "subject": study_ids.get(m.case_id, ""),
                "segmentation_version_id": segmentation.pk if segmentation else None,
            },
        ).pk
        for m in missing
    ]
    finished = jobs_await(ctx, children, percent_from=2, percent_to=75, what="radiomics extraction")
    failed = [job for job in finished.values() if job.status != Job.Status.SUCCEEDED]
    for job in failed:
        ctx.log(
            f"{job.params.get('subject') or job.params['case_id']}: feature extraction {job.status}: {job.error.splitlines()[0] if job.error else ''}"
        )


def _feature_rows(cases, masks, subsets, *, sides, settings_hash) -> tuple[list[_Row], list[dict]]:
    rows, left_out = [], []
    for case in cases:
        mask = masks.get(case.pk)
        stored = features.stored_features(mask, settings_hash=settings_hash, sides=sides) if mask else {}
        if len(stored) < len(sides):
            left_out.append({"case_id": case.pk, "reason": "no mask" if mask is None else "no features"})
            continue
        values, hu = features.case_feature_row(stored, sides)
        rows.append(_Row(case, subsets.get(case.pk, ""), values, hu, mask.segmentation_id))
    return rows, left_out


def _fit(rows: list[_Row], *, config_data: dict, settings_hash: str) -> dict:
    from inference.ml.classifier import ClassifierConfig, fit_baseline_model, fit_radiomics_model

    config = ClassifierConfig.from_dict(config_data)
    training = [r for r in rows if r.subset == "training" and r.case.bone_status in CLASSES]
    validation = [r for r in rows if r.subset == "validation" and r.case.bone_status in CLASSES]
    labels = [r.case.bone_status for r in training]
    if not training:
        raise ValueError("no training case has features from its masks (see the log for the cases left out)")
    radiomics = fit_radiomics_model(
        [r.features for r in training],
        labels,
        config=config,
        feature_names=list(training[0].features) if training else None,
        settings_hash=settings_hash,
    )
    baseline = fit_baseline_model([r.trabecular_hu for r in training], labels, config=config)
    out_of_bag, scored = radiomics.training_proba([r.features for r in training])
    radiomics_training = {r.case.pk: p for r, p, ok in zip(training, out_of_bag, scored, strict=True) if ok}
    return {
        "radiomics": radiomics,
        "baseline": baseline,
        "training_proba": radiomics_training,
        "metrics": {
            "radiomics": {
                **_evaluation(
                    radiomics, training, validation, baseline_input=False, training_proba=radiomics_training
                ),
                **_training_kind(radiomics_training, training),
            },
            "baseline": {
                **_evaluation(baseline, training, validation, baseline_input=True),
                **_training_kind({}, training),
            },
        },
    }


def _training_kind(training_proba: dict, training: list[_Row]) -> dict:
    """Which probabilities the training cohort's predictions (Table 3's training row) hold: out-of-bag when
    every training case has one, else apparent (in-sample), with the count of those without one."""
    apparent = len(training) - len(training_proba)
    kind = TRAINING_OUT_OF_BAG if training and apparent == 0 else TRAINING_APPARENT
    return {"training_probabilities": kind, "n_training_apparent": apparent}


def _model_input(model, rows: list[_Row], *, baseline_input: bool) -> list[dict]:
    from inference.ml.classifier import BASELINE_FEATURE

    return (
        [{BASELINE_FEATURE: r.trabecular_hu} for r in rows] if baseline_input else [r.features for r in rows]
    )


def _evaluation(
    model, training, validation, *, baseline_input: bool, training_proba: dict | None = None
) -> dict:
    """AUCs per class on the training (out-of-bag where training_proba has them) and validation subsets."""
    from inference.ml.classifier import probability_aucs

    def aucs(rows, replaced: dict):
        if not rows:
            return {}
        computed = model.predict_proba(_model_input(model, rows, baseline_input=baseline_input))
        proba = np.array([replaced.get(r.case.pk, p) for r, p in zip(rows, computed, strict=True)])
        values = probability_aucs(proba, [r.case.bone_status for r in rows], model.classes)
        return {k: (None if math.isnan(v) else round(v, 4)) for k, v in values.items()}

    return {
        "training_auc": aucs(training, training_proba or {}),
        "validation_auc": aucs(validation, {}),
        "n_training": len(training),
        "n_validation": len(validation),
    }


def _selected_features(model) -> list[dict]:
    """Fig. 3: the LASSO's features, each with its strongest coefficient (and all three)."""
    return [
        {
            "name": row["feature"],
            "coefficient": max(row["coefficients"].values(), key=abs),
            "coefficients": row["coefficients"],
        }
        for row in model.lasso_coefficients()
    ]


def _store(ctx, classifier, baseline, fitted, rows, left_out, *, source: str) -> None:
    work = job_work_dir(ctx.job.pk)
    radiomics, base = fitted["radiomics"], fitted["baseline"]
    table = [
        (
            r.case.pk,
            r.case.patient.study_id,
            r.subset,
            {**r.features, features.BASELINE_FEATURE: r.trabecular_hu},
        )
        for r in rows
    ]
    files = {
        "pipeline": radiomics.save(work / "classifier.joblib"),
        "features": features.feature_table_csv(work / "features.csv", table),
    }
    extra_lineage = {"library_versions": radiomics.versions, "n_cases": len(rows)}
    model_version_mark_trained(
        version=classifier,
        files=files,
        lineage=extra_lineage,
        metrics={
            **fitted["metrics"]["radiomics"],
            "selected_features": _selected_features(radiomics),
            "selection": radiomics.selected_features(),
            "left_out": left_out,
        },
    )
    model_version_mark_trained(
        version=baseline,
        files={"pipeline": base.save(work / "baseline.joblib")},
        lineage=extra_lineage,
        metrics={**fitted["metrics"]["baseline"], "left_out": left_out},
    )
    predictions_store(
        version=classifier,
        model=radiomics,
        rows=rows,
        source=source,
        job=ctx.job,
        baseline_input=False,
        training_proba=fitted["training_proba"],
    )
    predictions_store(
        version=baseline, model=base, rows=rows, source=source, job=ctx.job, baseline_input=True
    )


@transaction.atomic
def predictions_store(
    *,
    version: ModelVersion,
    model,
    rows: list[_Row],
    source: str,
    job: Job | None,
    baseline_input: bool,
    training_proba: dict | None = None,
) -> int:
    """One Prediction per case (probabilities, predicted and true class, subset), replacing none.

    training_proba (case id -> probabilities) replaces the model's own for the cases it was fitted on, so
    the training cohort's predictions are out-of-bag rather than apparent.
    """
    if not rows:
        return 0
    computed = model.predict_proba(_model_input(model, rows, baseline_input=baseline_input))
    probabilities = [(training_proba or {}).get(r.case.pk, p) for r, p in zip(rows, computed, strict=True)]
    Prediction.objects.bulk_create(
        [
            Prediction(
                case=r.case,
                model_version=version,
                segmentation_id=r.segmentation_id,
                mask_source=source,
                probabilities={
                    name: round(float(p), 6) for name, p in zip(model.classes, probs, strict=True)
                },
                predicted_class=model.classes[int(probs.argmax())],
                true_class=r.case.bone_status or "",
                subset=r.subset,
                job=job,
            )
            for r, probs in zip(rows, probabilities, strict=True)
        ],
        ignore_conflicts=True,
    )
    return len(rows)
